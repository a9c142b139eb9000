// When and how long to wait before repeating a runner API request (protocol reference §0.6).
// Policy is data so callers (trace sender, uploads, tests) can tune it without new code paths.

export interface RetryPolicy {
  /** Total attempts including the first one. */
  maxAttempts: number;
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
