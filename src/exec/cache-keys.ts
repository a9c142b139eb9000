// Cache keys as GitLab computes them before sending a job: `key:files` is a digest of the last
// commits that touched the files, `key:prefix` is prepended, and the unprotected-ref suffix is
// appended (separate caches for protected refs, GitLab's default).
import { createHash } from 'node:crypto';
import type { CacheSpec } from '../ci-yaml/types.js';
import type { JobCache } from '../model/payload.js';
import { tryGit, type GitRunner } from './git.js';

const UNPROTECTED_SUFFIX = '-non_protected';

export async function resolveCaches(
  caches: CacheSpec[],
  options: { git: GitRunner; root: string; sha: string },
): Promise<JobCache[]> {
  return Promise.all(
    caches.map(async (cache) => ({
      key: `${await cacheKey(cache.key, options)}${UNPROTECTED_SUFFIX}`,
      ...(cache.untracked !== undefined ? { untracked: cache.untracked } : {}),
      paths: cache.paths,
      policy: cache.policy,
      when: cache.when,
      fallback_keys: cache.fallbackKeys.map((key) => `${key}${UNPROTECTED_SUFFIX}`),
    })),
  );
}

async function cacheKey(
  key: CacheSpec['key'],
  options: { git: GitRunner; root: string; sha: string },
): Promise<string> {
  if (typeof key === 'string') return key;
  const ids = await Promise.all(
    key.files.map((file) =>
      tryGit(options.git, { args: ['log', '-1', '--format=%H', options.sha, '--', file], cwd: options.root }),
    ),
  );
  const commits = [...new Set(ids.filter((id): id is string => Boolean(id)))].sort();
  const digest =
    commits.length === 0 ? 'default' : createHash('sha1').update(commits.join('-')).digest('hex');
  return key.prefix === undefined ? digest : `${key.prefix}-${digest}`;
}
