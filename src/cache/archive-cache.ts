// The archive_cache / archive_cache_on_failure stage (job-execution ref §4.5): per cache entry
// whose `when` and policy allow it, select the files in the environment, skip when the stored
// archive is newer than every selected file, else zip a tar stream straight into the store.
import { copyTarOut } from '../executor/streams.js';
import type { JobEnvironment } from '../executor/types.js';
import type { JobPayload, JobVariable } from '../model/payload.js';
import { compressionLevel } from '../artifacts/compression-level.js';
import type { EnvironmentEntry } from '../artifacts/list-environment-files.js';
import { selectFiles } from '../artifacts/select-files.js';
import { helperLine, notice, scriptWarning } from '../artifacts/trace-lines.js';
import { whenMatches } from '../model/when.js';
import { zipFromTar } from '../artifacts/zip-from-tar.js';
import { cacheProject, planCaches, type PlannedCache } from './plan-caches.js';
import type { CacheRef, CacheStore } from './store.js';

export interface ArchiveCachesInput {
  env: JobEnvironment;
  job: JobPayload;
  projectDir: string;
  variables: JobVariable[];
  store: CacheStore;
  jobSucceeded: boolean;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** A failed cache upload is a warning ("Failed to create cache"), never a job failure. */
export async function archiveCaches(input: ArchiveCachesInput): Promise<void> {
  const project = { project: cacheProject(input.job), projectId: input.job.job_info.project_id };
  for (const planned of planCaches(input.job, input.variables, input.log)) {
    if (!whenMatches(planned.cache.when, input.jobSucceeded)) continue;
    if (!planned.policy.push) {
      input.log(notice(`Not uploading cache ${planned.key} due to policy`));
      continue;
    }
    input.log(notice(`Creating cache ${planned.key}...`));
    try {
      await archiveOne(project, planned, input);
      input.log(notice('Created cache'));
    } catch (error) {
      if (input.signal.aborted) throw error;
      input.log(helperLine('error', (error as Error).message));
      input.log(scriptWarning('Failed to create cache'));
    }
  }
}

async function archiveOne(
  project: Omit<CacheRef, 'key'>,
  planned: PlannedCache,
  input: ArchiveCachesInput,
): Promise<void> {
  const entries = await selectFiles({
    ...input,
    paths: planned.cache.paths,
    untracked: planned.cache.untracked,
  });
  if (entries.length === 0) {
    input.log(helperLine('warning', 'No files to cache.'));
    return;
  }
  const ref = { ...project, key: planned.key };
  const existing = await input.store.stat(ref);
  if (existing !== undefined && !hasNewerEntry(entries, existing.modifiedAt)) {
    input.log(helperLine('info', 'Archive is up to date!'));
    return;
  }
  const controller = new AbortController();
  const stop = (): void => controller.abort(input.signal.reason);
  input.signal.addEventListener('abort', stop, { once: true });
  try {
    const tar = copyTarOut(input.env, {
      directory: input.projectDir,
      paths: entries.map((entry) => entry.path),
      signal: controller.signal,
      dereferenceHardLinks: true,
    });
    const level = compressionLevel('CACHE_COMPRESSION_LEVEL', input.variables, input.log);
    await input.store.publish(ref, zipFromTar(tar, { compressionLevel: level }), {
      signal: controller.signal,
      log: input.log,
    });
  } finally {
    input.signal.removeEventListener('abort', stop);
    controller.abort();
  }
  if (input.store.remoteUrl === undefined) {
    input.log(
      helperLine(
        'info',
        'No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.',
      ),
    );
  }
}

// gitlab-runner rebuilds only when some file or dir changed after the archive was written.
function hasNewerEntry(entries: EnvironmentEntry[], archiveTime: Date): boolean {
  return entries.some((entry) => entry.mtimeMs > archiveTime.getTime());
}
