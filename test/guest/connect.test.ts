// Host-key pinning against a real ssh2 Server on loopback, and the hybrid vsock CONNECT
// handshake against a scripted unix-socket server.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { TartError } from '../../src/errors.js';
import { connectGuest, hybridVsockConnect } from '../../src/guest/ssh/connect.js';
import { generateVmKeys } from '../../src/guest/ssh/keys.js';

describe('connectGuest host-key pinning (real ssh2 server on loopback)', () => {
  const keys = generateVmKeys('pin-test');
  const impostor = generateVmKeys('impostor');
  let server: ssh2.Server;
  let port: number;
  let sessions = 0;

  before(async () => {
    // The server presents keys.host; it accepts the client key and runs `echo` commands.
    server = new ssh2.Server({ hostKeys: [keys.host.privateKey] }, (client) => {
      client.on('authentication', (context) =>
        context.method === 'publickey' ? context.accept() : context.reject(['publickey']),
      );
      client.on('ready', () => {
        sessions += 1;
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec) => {
            const channel = acceptExec();
            channel.write('pong\n');
            channel.exit(0);
            channel.end();
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

  it('connects and runs a command when the server presents the pinned host key', async () => {
    const session = await connectGuest({
      endpoint: { kind: 'tcp', host: '127.0.0.1', port },
      clientPrivateKey: keys.client.privateKey,
      hostPublicKey: keys.host.publicKey,
      timeoutMs: 5000,
    });
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const result = await session.exec({ command: ['true'], stdout });
    session.close();
    assert.equal(result.exitCode, 0);
    assert.equal(text, 'pong\n');
  });

  it('refuses a server with any other host key with SSH_HOST_KEY_MISMATCH, at once and before authenticating', async () => {
    const before = sessions;
    const started = Date.now();
    await assert.rejects(
      connectGuest({
        endpoint: { kind: 'tcp', host: '127.0.0.1', port },
        clientPrivateKey: keys.client.privateKey,
        hostPublicKey: impostor.host.publicKey,
        timeoutMs: 20_000,
      }),
      (error: unknown) => error instanceof TartError && error.code === 'SSH_HOST_KEY_MISMATCH',
    );
    assert.ok(Date.now() - started < 5000, 'no retrying until the timeout');
    assert.equal(sessions, before, 'the client never authenticated to the impostor');
  });

  it('gives up with SSH_CONNECT_TIMEOUT when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      connectGuest({
        endpoint: { kind: 'tcp', host: '127.0.0.1', port: deadPort },
        clientPrivateKey: keys.client.privateKey,
        hostPublicKey: keys.host.publicKey,
        timeoutMs: 600,
        retryDelayMs: 50,
      }),
      (error: unknown) => error instanceof TartError && error.code === 'SSH_CONNECT_TIMEOUT',
    );
  });
});

describe('hybridVsockConnect (Firecracker CONNECT handshake)', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-vsock-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A unix-socket server that hands each connection to `script`.
  async function serve(
    name: string,
    script: (socket: Socket) => void,
  ): Promise<{ path: string; server: Server }> {
    const path = join(dir, name);
    const server = createServer(script);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, server };
  }

  it('sends CONNECT <port>, accepts OK, and keeps bytes sent after the OK line', async () => {
    let request = '';
    const { path, server } = await serve('ok.sock', (socket) => {
      socket.once('data', (chunk: Buffer) => {
        request = chunk.toString();
        socket.write('OK 1073741824\nSSH-2.0-guest\r\n');
      });
    });
    const socket = await hybridVsockConnect(path, 22);
    // The socket comes back paused with the early bytes unshifted; the next reader resumes it.
    const first = new Promise<string>((resolve) =>
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    socket.resume();
    assert.equal(await first, 'SSH-2.0-guest\r\n');
    socket.destroy();
    server.close();
    assert.equal(request, 'CONNECT 22\n');
  });

  it('rejects with VSOCK_REFUSED when the answer is not OK', async () => {
    const { path, server } = await serve('refused.sock', (socket) =>
      socket.once('data', () => socket.write('FAILURE\n')),
    );
    await assert.rejects(
      hybridVsockConnect(path, 22),
      (error: unknown) => error instanceof TartError && error.code === 'VSOCK_REFUSED',
    );
    server.close();
  });

  it('rejects with VSOCK_TIMEOUT when nothing answers, and VSOCK_CONNECT_FAILED without a socket', async () => {
    const { path, server } = await serve('silent.sock', () => undefined);
    await assert.rejects(
      hybridVsockConnect(path, 22, 200),
      (error: unknown) => error instanceof TartError && error.code === 'VSOCK_TIMEOUT',
    );
    server.close();
    await assert.rejects(
      hybridVsockConnect(join(dir, 'missing.sock'), 22),
      (error: unknown) => error instanceof TartError && error.code === 'VSOCK_CONNECT_FAILED',
    );
  });
});
