// Cache keys and policies as gitlab-runner processes them (job-execution ref §4.2): default
// key, variable expansion, sanitising (18.3+ rules) and the pull/push policy. Pure functions.
import { posix } from 'node:path';
import { TartError } from '../errors.js';
import type { JobCache, JobPayload, JobVariable } from '../model/payload.js';
import { expandVariables } from '../model/variables.js';

export type SanitisedKey = { ok: true; key: string; changed: boolean } | { ok: false };

/**
 * Sanitises a cache key so it is one safe relative path: `%2F`/`%2E` decoded, `\` → `/`,
 * `.` and `..` resolved against a virtual root, trailing whitespace stripped from the last
 * segments (segments left empty are dropped).
 */
export function sanitiseCacheKey(raw: string): SanitisedKey {
  const decoded = raw.replace(/%2f/gi, '/').replace(/%2e/gi, '.').replace(/\\/g, '/');
  const segments = posix
    .resolve('/', decoded)
    .split('/')
    .filter((segment) => segment !== '');
  while (segments.length > 0) {
    const last = (segments[segments.length - 1] as string).trimEnd();
    if (last !== '') {
      segments[segments.length - 1] = last;
      break;
    }
    segments.pop();
  }
  const key = segments.join('/');
  if (key === '') return { ok: false };
  return { ok: true, key, changed: key !== raw };
}

/** The key as written in the payload, expanded; empty keys become `<job name>/<git ref>`. */
export function expandCacheKey(cache: JobCache, job: JobPayload, variables: JobVariable[]): string {
  const raw = cache.key === '' ? `${job.job_info.name}/${job.git_info.ref}` : cache.key;
  return expandVariables(raw, variables);
}

export interface CachePolicy {
  pull: boolean;
  push: boolean;
}

/** `pull-push` (or empty), `pull`, `push`; anything else fails the stage like gitlab-runner. */
export function cachePolicy(cache: JobCache, key: string, variables: JobVariable[]): CachePolicy {
  const policy = expandVariables(cache.policy ?? '', variables);
  switch (policy) {
    case '':
    case 'pull-push':
      return { pull: true, push: true };
    case 'pull':
      return { pull: true, push: false };
    case 'push':
      return { pull: false, push: true };
    default:
      throw new TartError('CACHE_POLICY_UNKNOWN', `unknown cache policy ${policy} for ${key}`, {
        details: { policy, key },
      });
  }
}

/** `CACHE_FALLBACK_KEY` (last definition wins), or undefined when unset or empty. */
export function globalFallbackKey(variables: JobVariable[]): string | undefined {
  const variable = [...variables].reverse().find((candidate) => candidate.key === 'CACHE_FALLBACK_KEY');
  if (variable === undefined) return undefined;
  const value = variable.raw ? variable.value : expandVariables(variable.value, variables);
  return value === '' ? undefined : value;
}

/** A protected-branch cache must never be reachable through the global fallback key. */
export function isProtectedFallbackKey(key: string): boolean {
  return key.replace(/[. ]+$/, '').endsWith('-protected');
}
