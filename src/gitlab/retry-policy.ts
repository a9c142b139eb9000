// When and how long to wait before repeating a runner API request (protocol reference §0.6),
// and the one retry loop every caller uses. Policy is data so callers (API calls, artifact
// uploads and downloads, tests) tune it without new code paths; every wait ends on abort.
import { setTimeout as sleep } from 'node:timers/promises';
import { TartError } from '../errors.js';

export interface RetryPolicy {
  /** Total attempts including the first one. */
  maxAttempts: number;
  /** Total attempts when the last answer had this status (artifact uploads: 6 on 503). */
  maxAttemptsByStatus?: Readonly<Record<number, number>>;
  /** Statuses that are retried (gitlab-runner: 408, 429, 500, 502, 503, 504). */
  retryStatuses: readonly number[];
  /** Any status at or above this is retried too (gitlab-runner: 512). */
  retryStatusesFrom: number;
  /** Retry when no response arrived (connection refused/reset, timeouts). */
  retryNetworkErrors: boolean;
  /** Exponential backoff: initial wait, doubled (times `factor`) per attempt, capped at `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** 0..1: the share of each wait that is randomised (0.5 → between 50 % and 100 % of the backoff). */
  jitter: number;
  /** Honour `RateLimit-ResetTime` / `Retry-After` from the server (still capped at `maxDelayMs`). */
  honourServerDelay: boolean;
}

/** gitlab-runner's retrying requester: 5 attempts, 100 ms → 60 s, factor 2, jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  retryStatuses: Object.freeze([408, 429, 500, 502, 503, 504]),
  retryStatusesFrom: 512,
  retryNetworkErrors: true,
  initialDelayMs: 100,
  maxDelayMs: 60_000,
  factor: 2,
  jitter: 0.5,
  honourServerDelay: true,
});

/** A single attempt: no retries (used where the caller has its own loop). */
export const NO_RETRY: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1 });

/**
 * gitlab-runner's artifacts-uploader: 3 tries, 6 while GitLab answers 503; waits 1 s doubling to 5 s.
 * Which results are worth another try is the uploader's decision, not a status list.
 */
export const ARTIFACT_UPLOAD_RETRY: RetryPolicy = Object.freeze({
  ...DEFAULT_RETRY_POLICY,
  maxAttempts: 3,
  maxAttemptsByStatus: Object.freeze({ 503: 6 }),
  initialDelayMs: 1000,
  maxDelayMs: 5000,
  jitter: 0,
  honourServerDelay: false,
});

/** gitlab-runner's artifacts-downloader: 1 + 2 retries, 1 s apart. */
export const ARTIFACT_DOWNLOAD_RETRY: RetryPolicy = Object.freeze({
  ...DEFAULT_RETRY_POLICY,
  maxAttempts: 3,
  initialDelayMs: 1000,
  maxDelayMs: 1000,
  factor: 1,
  jitter: 0,
  honourServerDelay: false,
});

/** One attempt's result: `retry` says whether another attempt could help. */
export interface AttemptResult<T> {
  value: T;
  retry: boolean;
  /** The answer's status and headers, when there was one (per-status limits, server-requested waits). */
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
}

export interface RetryHooks<T> {
  /** Aborts the wait between attempts (rejects with ABORTED). */
  signal?: AbortSignal;
  /** Whether a thrown error is worth another attempt (default: never). */
  retryError?: (error: unknown) => boolean;
  /** Called before each wait, with the result or error that is being retried. */
  onRetry?: (last: { value?: T; error?: unknown }, attempt: number) => void;
}

/** Runs `attempt` (1, 2, …) until it succeeds, says not to retry, or the policy's attempts run out. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<AttemptResult<T>>,
  hooks: RetryHooks<T> = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    let result: AttemptResult<T>;
    try {
      result = await attempt(n);
    } catch (error) {
      if (n >= policy.maxAttempts || !(hooks.retryError?.(error) ?? false)) throw error;
      hooks.onRetry?.({ error }, n);
      await waitBeforeRetry(retryDelayMs(policy, n, undefined), hooks.signal);
      continue;
    }
    if (!result.retry || n >= attemptLimit(policy, result.status)) return result.value;
    hooks.onRetry?.({ value: result.value }, n);
    await waitBeforeRetry(retryDelayMs(policy, n, result.headers), hooks.signal);
  }
}

function attemptLimit(policy: RetryPolicy, status: number | undefined): number {
  return (status !== undefined ? policy.maxAttemptsByStatus?.[status] : undefined) ?? policy.maxAttempts;
}

async function waitBeforeRetry(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (cause) {
    throw new TartError('ABORTED', 'Aborted while waiting to retry', { cause });
  }
}

export function isRetryableStatus(policy: RetryPolicy, status: number): boolean {
  return policy.retryStatuses.includes(status) || status >= policy.retryStatusesFrom;
}

/**
 * Milliseconds to wait before attempt `attempt + 1` (attempt counts from 1).
 * `headers` are the last response's headers when there was one.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  headers: Record<string, string | string[] | undefined> | undefined,
  random: () => number = Math.random,
  now: () => number = Date.now,
): number {
  const serverDelay =
    policy.honourServerDelay && headers ? serverRequestedDelayMs(headers, now()) : undefined;
  if (serverDelay !== undefined) return Math.min(serverDelay, policy.maxDelayMs);
  const backoff = Math.min(policy.initialDelayMs * policy.factor ** (attempt - 1), policy.maxDelayMs);
  return Math.round(backoff * (1 - policy.jitter) + backoff * policy.jitter * random());
}

// RateLimit-ResetTime (an HTTP date) wins over Retry-After (seconds), as in gitlab-runner.
function serverRequestedDelayMs(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | undefined {
  const reset = firstHeader(headers['ratelimit-resettime']);
  if (reset) {
    const at = Date.parse(reset);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  const retryAfter = firstHeader(headers['retry-after']);
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim()) * 1000;
  return undefined;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
