// The restore_cache stage (job-execution ref §4.4): per cache entry, try the key, then its
// fallback keys, then CACHE_FALLBACK_KEY; the first archive found is validated and streamed as
// tar into the project dir. A miss or a bad archive is a warning, never a job failure.
import { copyTarIn } from '../executor/streams.js';
import type { JobEnvironment } from '../executor/types.js';
import type { JobPayload, JobVariable } from '../model/payload.js';
import { helperLine, notice, scriptWarning } from '../artifacts/trace-lines.js';
import { openZipAsTar } from '../artifacts/zip-to-tar.js';
import { cacheProject, planCaches } from './plan-caches.js';
import type { CacheRef, CacheStore, StoredCache } from './store.js';

export interface RestoreCachesInput {
  env: JobEnvironment;
  job: JobPayload;
  projectDir: string;
  variables: JobVariable[];
  store: CacheStore;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Throws only for an unknown cache policy (a stage failure in gitlab-runner) or an abort. */
export async function restoreCaches(input: RestoreCachesInput): Promise<void> {
  const project = { project: cacheProject(input.job), projectId: input.job.job_info.project_id };
  for (const planned of planCaches(input.job, input.variables, input.log)) {
    if (!planned.policy.pull) {
      input.log(notice(`Not downloading cache ${planned.key} due to policy`));
      continue;
    }
    for (const key of [planned.key, ...planned.fallbackKeys]) {
      input.log(notice(`Checking cache for ${key}...`));
      if (await restoreOne(project, key, input)) {
        input.log(notice('Successfully extracted cache'));
        break;
      }
      input.log(scriptWarning('Failed to extract cache'));
    }
  }
}

// True when the archive under `key` was extracted into the environment.
async function restoreOne(
  project: Omit<CacheRef, 'key'>,
  key: string,
  input: RestoreCachesInput,
): Promise<boolean> {
  if (input.store.remoteUrl === undefined) {
    input.log(
      helperLine(
        'info',
        'No URL provided, cache will not be downloaded from shared cache server. Instead a local version of cache will be extracted.',
      ),
    );
  }
  let stored: StoredCache | undefined;
  try {
    stored = await input.store.use({ ...project, key }, { signal: input.signal, log: input.log });
  } catch (error) {
    // A shared store that lacks the key or cannot be reached: gitlab-runner's warning, a miss.
    if (input.signal.aborted) throw error;
    input.log(helperLine('warning', (error as Error).message));
    return false;
  }
  if (stored === undefined) {
    input.log(helperLine('warning', 'Cache file does not exist'));
    return false;
  }
  try {
    const { tar } = await openZipAsTar({ zipPath: stored.path, projectDir: input.projectDir });
    await copyTarIn(input.env, { directory: input.projectDir, tar, signal: input.signal });
    return true;
  } catch (error) {
    if (input.signal.aborted) throw error;
    input.log(helperLine('warning', (error as Error).message));
    return false;
  }
}
