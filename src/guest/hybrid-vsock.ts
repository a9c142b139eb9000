// Host-initiated connections into a Firecracker guest over its "hybrid" vsock (firecracker.md §4.2):
// connect to the unix socket at uds_path, write `CONNECT <port>\n`, expect `OK <host port>\n`; from
// then on the stream is the guest's. Bytes that arrive after the ack line are kept, not dropped.
// The only vsock client: the SSH channel and the Firecracker driver's tests both use it.
// Error codes: VSOCK_REFUSED (an answer other than OK), VSOCK_TIMEOUT (no ack in time),
// VSOCK_CONNECT_FAILED (no socket, or closed before the ack).
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TartError } from '../errors.js';

export interface HybridVsockTarget {
  /** The vsock device's uds_path on the host. */
  path: string;
  /** The guest's AF_VSOCK port. */
  port: number;
}

export interface ConnectOptions {
  /** Deadline for one connect + ack exchange (the Go SDK uses 1 s for the ack). */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_VSOCK_ATTEMPT_TIMEOUT_MS = 1_000;
/** Longest ack line we accept: "OK " + a u32 + "\n". */
const MAX_ACK_BYTES = 32;

/** One attempt: a connected socket positioned at the first guest byte, or VSOCK_CONNECT_FAILED. */
export function connectHybridVsock(target: HybridVsockTarget, options: ConnectOptions = {}): Promise<Socket> {
  const timeoutMs = options.attemptTimeoutMs ?? DEFAULT_VSOCK_ATTEMPT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: target.path });
    let received = Buffer.alloc(0);
    const fail = (reason: string, cause?: unknown, code = 'VSOCK_CONNECT_FAILED'): void => {
      finish();
      socket.destroy();
      reject(
        new TartError(code, `vsock CONNECT ${target.port} via ${target.path}: ${reason}`, {
          cause,
          details: { path: target.path, port: target.port },
        }),
      );
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = Buffer.concat([received, chunk]);
        const newline = received.indexOf(0x0a);
        if (newline === -1) {
          if (received.length > MAX_ACK_BYTES)
            fail(`no ack line in the first ${MAX_ACK_BYTES} bytes`, undefined, 'VSOCK_REFUSED');
          continue;
        }
        const line = received.subarray(0, newline).toString('latin1');
        if (!/^OK \d+$/.test(line))
          return fail(`unexpected answer ${JSON.stringify(line)}`, undefined, 'VSOCK_REFUSED');
        finish();
        const rest = received.subarray(newline + 1);
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
    };
    const onError = (error: Error): void => fail(error.message, error);
    const onClose = (): void => fail('closed before the ack (nothing listening on that guest port yet?)');
    const onAbort = (): void => fail('cancelled');
    const timer = setTimeout(
      () => fail(`no ack within ${timeoutMs} ms`, undefined, 'VSOCK_TIMEOUT'),
      timeoutMs,
    );
    function finish(): void {
      clearTimeout(timer);
      socket.off('readable', onReadable).off('error', onError).off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('readable', onReadable).on('error', onError).on('close', onClose);
    socket.once('connect', () => socket.write(`CONNECT ${target.port}\n`));
  });
}

export interface RetryOptions extends ConnectOptions {
  /** Give up after this long (the guest may still be booting). */
  deadlineMs: number;
  /** Pause between attempts (the Go SDK retries every 100 ms). */
  retryIntervalMs?: number;
}

/** Retries connectHybridVsock until it succeeds or the deadline passes; the last error is thrown. */
export async function connectHybridVsockWithRetry(
  target: HybridVsockTarget,
  options: RetryOptions,
): Promise<Socket> {
  const deadline = Date.now() + options.deadlineMs;
  for (;;) {
    try {
      return await connectHybridVsock(target, options);
    } catch (error) {
      if (options.signal?.aborted || Date.now() + (options.retryIntervalMs ?? 100) > deadline) throw error;
    }
    await sleep(options.retryIntervalMs ?? 100, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
