// The cache store a job uses: the local store under cache_dir, with the S3 bucket in front of it
// when the runner has `[runners.cache] Type = "s3"`.
import { shortToken } from '../config/short-token.js';
import type { RunnerSettings } from '../model/runner-settings.js';
import { S3CacheClient } from './s3-client.js';
import { S3CacheStore } from './s3-store.js';
import { LocalCacheStore, type CacheStore } from './store.js';

/** A store for one job; call its close() when the job ends. */
export function createCacheStore(
  runner: Pick<RunnerSettings, 'cacheDir' | 'sharedCache' | 'token'>,
): CacheStore {
  const local = new LocalCacheStore({ dir: runner.cacheDir });
  const shared = runner.sharedCache;
  if (shared === undefined) return local;
  return new S3CacheStore({
    local,
    client: new S3CacheClient(shared.s3),
    path: shared.path,
    shared: shared.shared,
    shortToken: shortToken(runner.token),
    maxUploadedArchiveSize: shared.maxUploadedArchiveSize,
  });
}
