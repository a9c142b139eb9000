// The QMP client against a scripted unix-socket server: greeting, capabilities negotiation,
// events skipped, replies split across packets, and timeouts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TartError } from '../../../src/errors.js';
import { qmpExecute, qmpExecuteWhenReady } from '../../../src/vmm/qemu/qmp.js';

const GREETING = `${JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } })}\r\n`;

describe('qmpExecute', () => {
  let dir: string;
  const servers: Server[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-qmp-'));
  });

  after(async () => {
    for (const server of servers) server.close();
    await rm(dir, { recursive: true, force: true });
  });

  // A QMP server whose answers to each received command line are chosen by `answer`.
  async function serve(
    name: string,
    answer: (command: Record<string, unknown>, socket: Socket) => void,
    greeting = GREETING,
  ) {
    const path = join(dir, name);
    const received: Array<Record<string, unknown>> = [];
    const server = createServer((socket) => {
      let buffer = '';
      if (greeting) socket.write(greeting);
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const command = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
          buffer = buffer.slice(newline + 1);
          received.push(command);
          answer(command, socket);
        }
      });
      socket.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, received };
  }

  it('negotiates capabilities, then runs the command and returns its reply, skipping events', async () => {
    const { path, received } = await serve('ok.sock', (command, socket) => {
      if (command.execute === 'qmp_capabilities') return void socket.write('{"return": {}}\r\n');
      // An event first, then the reply split over two writes.
      socket.write('{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"ret');
      setTimeout(() => socket.write('urn": {"status": "ok"}}\r\n'), 20);
    });
    const reply = await qmpExecute(path, 'query-status');
    assert.deepEqual(reply, { return: { status: 'ok' } });
    assert.deepEqual(received, [{ execute: 'qmp_capabilities' }, { execute: 'query-status' }]);
  });

  it('returns an error reply as data', async () => {
    const { path } = await serve('error.sock', (command, socket) =>
      socket.write(
        command.execute === 'qmp_capabilities'
          ? '{"return": {}}\n'
          : '{"error": {"class": "CommandNotFound", "desc": "nope"}}\n',
      ),
    );
    assert.deepEqual(await qmpExecute(path, 'bogus'), { error: { class: 'CommandNotFound', desc: 'nope' } });
  });

  it('fails with QMP_PROTOCOL on a missing greeting or a line that is not JSON', async () => {
    const noGreeting = await serve('no-greeting.sock', () => undefined, '{"hello": 1}\n');
    await assert.rejects(
      qmpExecute(noGreeting.path, 'quit'),
      (error: unknown) => error instanceof TartError && error.code === 'QMP_PROTOCOL',
    );
    const garbage = await serve('garbage.sock', () => undefined, 'this is not json\n');
    await assert.rejects(
      qmpExecute(garbage.path, 'quit'),
      (error: unknown) => error instanceof TartError && error.code === 'QMP_PROTOCOL',
    );
  });

  it('fails when the server never answers (timeout) or hangs up', async () => {
    const silent = await serve('silent.sock', () => undefined);
    const started = Date.now();
    await assert.rejects(
      qmpExecute(silent.path, 'quit', 200),
      (error: unknown) => error instanceof TartError && /QMP_/.test(error.code),
    );
    assert.ok(Date.now() - started < 1500);
    const hangUp = await serve('hangup.sock', (_command, socket) => socket.destroy());
    await assert.rejects(
      qmpExecute(hangUp.path, 'quit'),
      (error: unknown) => error instanceof TartError && error.code === 'QMP_CONNECTION',
    );
    await assert.rejects(
      qmpExecute(join(dir, 'missing.sock'), 'quit'),
      (error: unknown) => error instanceof TartError && error.code === 'QMP_CONNECTION',
    );
  });

  it('waits for a socket that is not there yet (a QEMU still in its init), then runs the command', async () => {
    const path = join(dir, 'late.sock');
    const started = Date.now();
    setTimeout(() => {
      void serve('late.sock', (command, socket) =>
        socket.write(command.execute === 'qmp_capabilities' ? '{"return": {}}\n' : '{"return": {"status": "prelaunch"}}\n'),
      );
    }, 150);
    const reply = await qmpExecuteWhenReady(path, 'query-status', { timeoutMs: 3000 });
    assert.deepEqual(reply, { return: { status: 'prelaunch' } });
    assert.ok(Date.now() - started >= 140, 'it waited for the socket');
  });

  it('gives up at its timeout, or at once when the QEMU is gone', async () => {
    const missing = join(dir, 'never.sock');
    const started = Date.now();
    await assert.rejects(
      qmpExecuteWhenReady(missing, 'query-status', { timeoutMs: 200 }),
      (error: unknown) => error instanceof TartError && error.code === 'QMP_CONNECTION',
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 190 && waited < 1500, `waited ${waited} ms`);
    const again = Date.now();
    await assert.rejects(qmpExecuteWhenReady(missing, 'query-status', { timeoutMs: 5000, gone: () => true }));
    assert.ok(Date.now() - again < 500);
  });
});
