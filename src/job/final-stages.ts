// The stages after the user's script (job execution reference §1.1–§1.2, §4.5, §5.2):
// cache archiving and artifact uploads for the job's outcome so far, then the cleanup script.
import { uploadArtifacts } from '../artifacts/upload-artifacts.js';
import { archiveCaches } from '../cache/archive-cache.js';
import type { JobPayload } from '../model/payload.js';
import { errorMessage } from './abortable.js';
import type { JobFailure } from './failure.js';
import { stageFailure, type JobRun } from './job-run.js';
import { hostInput, runGeneratedScript, runHost } from './source-stages.js';
import { STAGE } from './stage-names.js';

/** archive_cache / archive_cache_on_failure; a failure is only a warning, as in gitlab-runner. */
export async function runArchiveCache(run: JobRun, jobSucceeded: boolean): Promise<JobFailure | undefined> {
  if (!hasCacheToArchive(run.script.job, jobSucceeded)) return undefined;
  const stage = jobSucceeded ? STAGE.archiveCache : STAGE.archiveCacheOnFailure;
  const result = await runHost(run, stage, (signal) =>
    archiveCaches({
      ...hostInput(run, signal),
      variables: run.script.variables,
      store: run.cacheStore,
      jobSucceeded,
    }),
  );
  if (result.kind === 'error') {
    run.trace.warning(`Failed to create cache: ${errorMessage(result.error)}`);
    return undefined;
  }
  return stageFailure(run, stage, result, run.control.job);
}

/** upload_artifacts_on_success / _on_failure; a failed upload fails an otherwise successful job. */
export async function runUploadArtifacts(
  run: JobRun,
  jobSucceeded: boolean,
): Promise<JobFailure | undefined> {
  if (!hasArtifactsToUpload(run.script.job, jobSucceeded)) return undefined;
  const stage = jobSucceeded ? STAGE.uploadArtifactsOnSuccess : STAGE.uploadArtifactsOnFailure;
  let uploaded = true;
  const result = await runHost(run, stage, async (signal) => {
    const { ok } = await uploadArtifacts({
      ...hostInput(run, signal),
      variables: run.script.variables,
      transport: run.artifacts,
      jobSucceeded,
    });
    uploaded = ok;
  });
  if (result.kind === 'error')
    return { kind: 'artifact-upload', message: `uploading artifacts: ${errorMessage(result.error)}` };
  if (result.kind === 'ok' && !uploaded)
    return { kind: 'artifact-upload', message: 'uploading artifacts failed' };
  return stageFailure(run, stage, result, run.control.job);
}

/** cleanup_file_variables; its own failure never changes the job's result. */
export async function runCleanup(run: JobRun): Promise<JobFailure | undefined> {
  const result = await runGeneratedScript(run, STAGE.cleanupFileVariables);
  if (result.kind === 'stopped')
    return stageFailure(run, STAGE.cleanupFileVariables, result, run.control.job);
  if (result.kind !== 'ok') run.trace.warning('Error while executing file based variables removal script');
  return undefined;
}

// Entries whose `when` matches the outcome and that have something to save (§4.5).
function hasCacheToArchive(job: JobPayload, jobSucceeded: boolean): boolean {
  return job.cache.some(
    (cache) => matchesWhen(cache.when, jobSucceeded) && (cache.paths.length > 0 || cache.untracked === true),
  );
}

// Entries whose `when` matches the outcome and that name paths, excludes or untracked (§5.2).
function hasArtifactsToUpload(job: JobPayload, jobSucceeded: boolean): boolean {
  return job.artifacts.some(
    (artifact) =>
      matchesWhen(artifact.when, jobSucceeded) &&
      (artifact.paths.length > 0 || (artifact.exclude?.length ?? 0) > 0 || artifact.untracked === true),
  );
}

// on_success (or empty) and always on success; on_failure and always on failure.
function matchesWhen(when: string | undefined, jobSucceeded: boolean): boolean {
  if (when === 'always') return true;
  return jobSucceeded ? when === undefined || when === '' || when === 'on_success' : when === 'on_failure';
}
