// A minimal QMP client: JSON lines over QEMU's control socket. Used to ask QEMU to quit
// cleanly before falling back to a signal.
import { createConnection, type Socket } from 'node:net';
import { TartError } from '../../errors.js';

export interface QmpReply {
  return?: unknown;
  error?: { class: string; desc: string };
}

/** Connects, negotiates capabilities, runs `command`, and closes. Rejects after timeoutMs. */
export async function qmpExecute(socketPath: string, command: string, timeoutMs = 2000): Promise<QmpReply> {
  const socket = createConnection(socketPath);
  const lines = lineReader(socket);
  const timer = setTimeout(() => socket.destroy(new TartError('QMP_TIMEOUT', `QMP ${command} timed out`)), timeoutMs);
  try {
    const greeting = await lines.next();
    if (!('QMP' in greeting)) throw new TartError('QMP_PROTOCOL', 'QMP greeting missing');
    socket.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
    await lines.nextReply();
    socket.write(`${JSON.stringify({ execute: command })}\n`);
    return await lines.nextReply();
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * qmpExecute once QEMU serves its socket: a QEMU just spawned binds it during its init and answers
 * only from its main loop on. Retries a socket not there yet (or refusing) every 20 ms until
 * `timeoutMs`, or until `gone()` says QEMU has exited.
 */
export async function qmpExecuteWhenReady(
  socketPath: string,
  command: string,
  options: { timeoutMs: number; gone?: () => boolean },
): Promise<QmpReply> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      return await qmpExecute(socketPath, command, Math.max(deadline - Date.now(), 1));
    } catch (error) {
      const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
      const notYet = cause?.code === 'ENOENT' || cause?.code === 'ECONNREFUSED';
      if (!notYet || Date.now() >= deadline || options.gone?.()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

// Parses newline-delimited JSON messages; events are skipped when waiting for a reply.
function lineReader(socket: Socket) {
  let buffer = '';
  const queue: Record<string, unknown>[] = [];
  let waiting: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line === '') continue;
      try {
        deliver(JSON.parse(line) as Record<string, unknown>);
      } catch {
        fail(new TartError('QMP_PROTOCOL', 'QMP sent a line that is not JSON'));
      }
    }
  });
  const fail = (error: Error) => {
    failure ??= error;
    waiting?.reject(failure);
    waiting = undefined;
  };
  socket.on('error', (error) => fail(new TartError('QMP_CONNECTION', `QMP connection failed: ${error.message}`, { cause: error })));
  socket.on('close', () => fail(new TartError('QMP_CONNECTION', 'QMP connection closed')));
  const deliver = (message: Record<string, unknown>) => {
    if (waiting) {
      const current = waiting;
      waiting = undefined;
      current.resolve(message);
    } else queue.push(message);
  };
  const next = (): Promise<Record<string, unknown>> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
  return {
    next,
    async nextReply(): Promise<QmpReply> {
      for (;;) {
        const message = await next();
        if ('return' in message || 'error' in message) return message as QmpReply;
      }
    },
  };
}
