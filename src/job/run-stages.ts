// The order of a job's stages and what still runs after a failure, a cancel or a timeout
// (job execution reference §1.2): a stop from outside (deadline, hard cancel, shutdown)
// skips everything still pending; other failures switch to the on_failure variants.
import type { JobFailure } from './failure.js';
import { runArchiveCache, runCleanup, runUploadArtifacts } from './final-stages.js';
import { stopFailure, type JobRun } from './job-run.js';
import { runDownloadArtifacts, runGetSources, runPrepareScript, runRestoreCache } from './source-stages.js';
import { runAfterScript, runUserSteps } from './user-stages.js';

/** Runs every stage after prepare_executor; undefined means the job succeeded. */
export async function runStages(run: JobRun): Promise<JobFailure | undefined> {
  const stopped = (): JobFailure | undefined =>
    run.control.jobStop === undefined ? undefined : stopFailure(run.control.jobStop, run.jobTimeoutMs);

  const prepareFailure = await runPrepareScript(run);
  if (prepareFailure !== undefined) return prepareFailure;

  let failure =
    (await runGetSources(run)) ?? (await runRestoreCache(run)) ?? (await runDownloadArtifacts(run));
  if (failure === undefined) {
    failure = await runUserSteps(run);
    if (stopped() === undefined) failure = (await runAfterScript(run, failure)) ?? failure;
  }
  if (stopped() !== undefined) return stopped();

  const succeeded = failure === undefined;
  await runArchiveCache(run, succeeded);
  if (stopped() !== undefined) return stopped();
  const uploadFailure = await runUploadArtifacts(run, succeeded);
  if (stopped() !== undefined) return stopped();
  await runCleanup(run);
  return stopped() ?? failure ?? uploadFailure;
}
