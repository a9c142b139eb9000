// The hybrid vsock CONNECT handshake against a unix-socket server written here (playing Firecracker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../src/errors.js';
import {
  connectHybridVsock,
  connectHybridVsockWithRetry,
} from '../../src/guest/hybrid-vsock.js';

type Behaviour = (socket: Socket, line: string) => void;

async function withVsockServer(
  behaviour: Behaviour,
  body: (path: string, lines: string[]) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tfc-vs-'));
  const path = join(dir, 'v.sock');
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', function onData(chunk: Buffer) {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      socket.off('data', onData);
      lines.push(buffered.slice(0, newline));
      behaviour(socket, buffered.slice(0, newline));
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    await body(path, lines);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}

test('the handshake sends CONNECT <port>\\n, accepts OK <n>\\n and keeps guest bytes that arrive with the ack', async () => {
  await withVsockServer(
    (socket) => {
      socket.write('OK 1073741824\nSSH-2.0-guest\r\n');
      socket.pipe(socket);
    },
    async (path, lines) => {
      const socket = await connectHybridVsock({ path, port: 22 });
      const first = await new Promise<string>((resolve) =>
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
      );
      assert.equal(first, 'SSH-2.0-guest\r\n');
      socket.write('ping');
      const echoed = await new Promise<string>((resolve) =>
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
      );
      assert.equal(echoed, 'ping');
      socket.destroy();
      assert.deepEqual(lines, ['CONNECT 22']);
    },
  );
});

test('a closed connection (nothing listens on the guest port) is VSOCK_CONNECT_FAILED', async () => {
  await withVsockServer(
    (socket) => socket.destroy(),
    async (path) => {
      await assert.rejects(connectHybridVsock({ path, port: 22 }), (error: unknown) => {
        assert.ok(hasCode(error, 'VSOCK_CONNECT_FAILED'));
        assert.deepEqual(error.details, { path, port: 22 });
        return true;
      });
    },
  );
});

test('an answer other than OK <n> is refused', async () => {
  await withVsockServer(
    (socket) => socket.write('ERR no\n'),
    async (path) => {
      await assert.rejects(connectHybridVsock({ path, port: 22 }), /unexpected answer "ERR no"/);
    },
  );
});

test('no ack within the attempt timeout fails the attempt', async () => {
  await withVsockServer(
    () => undefined,
    async (path) => {
      await assert.rejects(
        connectHybridVsock({ path, port: 22 }, { attemptTimeoutMs: 100 }),
        /no ack within 100 ms/,
      );
    },
  );
});

test('retries until the guest starts listening, then connects', async () => {
  let attempts = 0;
  await withVsockServer(
    (socket) => {
      attempts += 1;
      if (attempts < 3) return void socket.destroy();
      socket.write('OK 5\n');
    },
    async (path) => {
      const socket = await connectHybridVsockWithRetry(
        { path, port: 22 },
        { deadlineMs: 5_000, retryIntervalMs: 20 },
      );
      socket.destroy();
      assert.equal(attempts, 3);
    },
  );
});

test('retrying gives up at the deadline with the last error', async () => {
  await withVsockServer(
    (socket) => socket.destroy(),
    async (path) => {
      await assert.rejects(
        connectHybridVsockWithRetry({ path, port: 22 }, { deadlineMs: 200, retryIntervalMs: 20 }),
        (error: unknown) => hasCode(error, 'VSOCK_CONNECT_FAILED'),
      );
    },
  );
});
