// Turns the payload's cache[] into what restore and archive act on: sanitised keys, the policy,
// and the keys to try on a miss. Logs the key warnings gitlab-runner prints.
import type { JobCache, JobPayload, JobVariable } from '../model/payload.js';
import { expandVariables } from '../model/variables.js';
import { runnerWarning } from '../artifacts/trace-lines.js';
import {
  cachePolicy,
  expandCacheKey,
  globalFallbackKey,
  isProtectedFallbackKey,
  sanitiseCacheKey,
  type CachePolicy,
} from './cache-key.js';

export interface PlannedCache {
  cache: JobCache;
  /** Sanitised primary key. */
  key: string;
  policy: CachePolicy;
  /** Sanitised fallback_keys, then CACHE_FALLBACK_KEY, in the order to try. */
  fallbackKeys: string[];
}

/** Project path for the store: project_full_path, else the repo URL's path, else project-<id>. */
export function cacheProject(job: JobPayload): string {
  if (job.job_info.project_full_path) return job.job_info.project_full_path;
  try {
    const path = new URL(job.git_info.repo_url).pathname.replace(/^\/+/, '').replace(/\.git$/, '');
    if (path !== '' && !path.split('/').includes('..')) return path;
  } catch {
    // not a URL: fall through
  }
  return `project-${job.job_info.project_id}`;
}

/** Entries with paths or untracked; entries whose key cannot be sanitised are skipped with a warning. */
export function planCaches(
  job: JobPayload,
  variables: JobVariable[],
  log: (line: string) => void,
): PlannedCache[] {
  const planned: PlannedCache[] = [];
  for (const cache of job.cache) {
    if (cache.paths.length === 0 && cache.untracked !== true) continue;
    const key = sanitised(expandCacheKey(cache, job, variables), log);
    if (key === undefined) continue;
    planned.push({
      cache,
      key,
      policy: cachePolicy(cache, key, variables),
      fallbackKeys: fallbackKeys(cache, variables, log),
    });
  }
  return planned;
}

function fallbackKeys(cache: JobCache, variables: JobVariable[], log: (line: string) => void): string[] {
  const keys: string[] = [];
  for (const raw of cache.fallback_keys ?? []) {
    const key = sanitised(expandVariables(raw, variables), log);
    if (key !== undefined) keys.push(key);
  }
  const global = globalFallbackKey(variables);
  if (global !== undefined) {
    if (isProtectedFallbackKey(global)) {
      log(runnerWarning(`CACHE_FALLBACK_KEY "${global}" not allowed to end in "-protected"`));
    } else {
      const key = sanitised(global, log);
      if (key !== undefined) keys.push(key);
    }
  }
  return keys;
}

function sanitised(raw: string, log: (line: string) => void): string | undefined {
  const result = sanitiseCacheKey(raw);
  if (!result.ok) {
    log(runnerWarning(`cache key "${raw}" could not be sanitized`));
    log(runnerWarning('Skipping cache extraction due to empty cache key'));
    return undefined;
  }
  if (result.changed) log(runnerWarning(`cache key "${raw}" sanitized to "${result.key}"`));
  return result.key;
}
