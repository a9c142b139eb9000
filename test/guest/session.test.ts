// The SSH GuestChannel against a real ssh2 server on loopback whose command reads stdin to its end,
// as `tar -x` does: a failing stdin source must fail the exec, not look like a clean end of input.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { connectGuest } from '../../src/guest/ssh/connect.js';
import { generateVmKeys } from '../../src/guest/ssh/keys.js';

describe('GuestSession stdin', () => {
  const keys = generateVmKeys('session-test');
  let server: ssh2.Server;
  let port: number;
  let bytesSeen = 0;

  before(async () => {
    // Every exec reads its stdin to the end, then exits 0; a kill channel (reads a pid file) exits 0 too.
    server = new ssh2.Server({ hostKeys: [keys.host.privateKey] }, (client) => {
      client.on('authentication', (context) => context.accept());
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec) => {
            const channel = acceptExec();
            channel.on('data', (chunk: Buffer) => (bytesSeen += chunk.length));
            channel.on('end', () => {
              channel.exit(0);
              channel.end();
            });
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const connect = () =>
    connectGuest({
      endpoint: { kind: 'tcp', host: '127.0.0.1', port },
      clientPrivateKey: keys.client.privateKey,
      hostPublicKey: keys.host.publicKey,
      timeoutMs: 5000,
    });

  it('delivers a whole stdin stream and reports the exit code', async () => {
    const session = await connect();
    bytesSeen = 0;
    try {
      const result = await session.exec({ command: ['tar', '-x'], stdin: Readable.from([Buffer.alloc(1000), Buffer.alloc(24)]) });
      assert.equal(result.exitCode, 0);
      assert.equal(bytesSeen, 1024);
    } finally {
      session.close();
    }
  });

  it('fails the exec with the source error when the stdin stream fails midway', async () => {
    const session = await connect();
    try {
      async function* brokenArchive() {
        yield Buffer.alloc(512);
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('corrupt zip entry bad.txt: CRC-32 mismatch');
      }
      await assert.rejects(
        session.exec({ command: ['tar', '-x'], stdin: Readable.from(brokenArchive()) }),
        (error: Error & { code?: string }) =>
          error.code === 'EXEC_STDIN_FAILED' && /stdin of tar failed: corrupt zip entry bad\.txt: CRC-32 mismatch/.test(error.message),
      );
    } finally {
      session.close();
    }
  });
});
