// Object names in a shared cache bucket, laid out as gitlab-runner's cache/cache.go
// generateObjectName lays them: `<Path>/runner/<short token>/project/<project id>/<key>`, or
// without the `runner/<short token>` level when `Shared = true`. Pure.
import { posix } from 'node:path';
import { TartError } from '../errors.js';

export interface ObjectNameInput {
  /** `[runners.cache] Path`; absent or "" = none. */
  path?: string;
  shared: boolean;
  /** The runner's short token (src/config/short-token.ts, gitlab-runner's ShortenToken). */
  shortToken: string;
  projectId: number;
  /** A sanitised cache key. */
  key: string;
}

/** The object name for a cache key; throws CACHE_KEY_INVALID for a key that leaves its project. */
export function cacheObjectName(input: ObjectNameInput): string {
  const namespace = input.shared ? [] : ['runner', input.shortToken];
  const base = goJoin(input.path ?? '', ...namespace, 'project', String(input.projectId));
  const full = goJoin(base, input.key);
  if (input.key === '' || !full.startsWith(`${base}/`)) {
    throw new TartError(
      'CACHE_KEY_INVALID',
      'computed cache path outside of project bucket. Please remove `../` from cache key',
      { details: { key: input.key } },
    );
  }
  return full;
}

// Go's path.Join: empty elements dropped, the result cleaned, no trailing slash, "" for nothing.
function goJoin(...elements: string[]): string {
  const kept = elements.filter((element) => element !== '');
  if (kept.length === 0) return '';
  const joined = posix.normalize(kept.join('/'));
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
}
