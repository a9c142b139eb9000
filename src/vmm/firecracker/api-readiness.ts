// Firecracker answers on its API socket ~12 ms after exec; the Go SDK polls every 10 ms until the
// socket exists and GET /machine-config succeeds, for at most 3 s (firecracker.md §1.1).
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TartError } from '../../errors.js';
import { FirecrackerApiClient } from './api-client.js';

export const DEFAULT_API_READY_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 10;

/** Resolves once the API answers; FIRECRACKER_API_NOT_READY after `timeoutMs`. */
export async function waitForApi(
  client: FirecrackerApiClient,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'the socket was never created';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (await exists(client.socketPath)) {
      try {
        await client.call({ method: 'GET', path: '/machine-config' });
        return;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new TartError(
    'FIRECRACKER_API_NOT_READY',
    `Firecracker's API did not answer within ${timeoutMs} ms: ${lastProblem}`,
    {
      details: { socketPath: client.socketPath, timeoutMs },
    },
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
