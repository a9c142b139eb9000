// The stages before the user's script (job execution reference §1.1–§1.3): prepare_script,
// get_sources (with clear_worktree before a retry), restore_cache and download_artifacts.
import { downloadArtifacts } from '../artifacts/download-artifacts.js';
import { restoreCaches } from '../cache/restore-cache.js';
import { buildStageScript, type ScriptStage } from '../shell/stage-script.js';
import { errorMessage } from './abortable.js';
import { clearWorktreeScript } from './clear-worktree.js';
import { failureMessage, type JobFailure } from './failure.js';
import { runScript, stageFailure, withAttempts, type JobRun } from './job-run.js';
import { STAGE, stageDescription } from './stage-names.js';
import { runHostStage, type StageResult } from './stages.js';

const SHELL_PROFILE_HELP =
  'Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information';

/** prepare_script; a failure here ends the job at once. */
export async function runPrepareScript(run: JobRun): Promise<JobFailure | undefined> {
  const result = await runGeneratedScript(run, STAGE.prepareScript);
  const failure = stageFailure(run, STAGE.prepareScript, result, run.control.job);
  if (failure?.kind === 'script' || failure?.kind === 'system') {
    return { ...failure, message: `prepare environment: ${failureMessage(failure)}. ${SHELL_PROFILE_HELP}` };
  }
  return failure;
}

/** get_sources, up to GET_SOURCES_ATTEMPTS times; clear_worktree runs before the second. */
export async function runGetSources(run: JobRun): Promise<JobFailure | undefined> {
  const result = await withAttempts(
    run,
    run.settings.getSourcesAttempts,
    () => runGeneratedScript(run, STAGE.getSources),
    async (attempt) => {
      if (attempt === 2)
        await runScript(
          run,
          STAGE.clearWorktree,
          clearWorktreeScript(run.script.projectDir),
          run.control.job,
        );
    },
  );
  return stageFailure(run, STAGE.getSources, result, run.control.job);
}

/** restore_cache, when some cache entry has paths or untracked; up to RESTORE_CACHE_ATTEMPTS times. */
export async function runRestoreCache(run: JobRun): Promise<JobFailure | undefined> {
  const { job } = run.script;
  if (!job.cache.some((cache) => cache.paths.length > 0 || cache.untracked === true)) return undefined;
  const result = await withAttempts(run, run.settings.restoreCacheAttempts, () =>
    runHost(run, STAGE.restoreCache, (signal) =>
      restoreCaches({ ...hostInput(run, signal), variables: run.script.variables, store: run.cacheStore }),
    ),
  );
  return stageFailure(run, STAGE.restoreCache, result, run.control.job);
}

/** download_artifacts, when some dependency has an archive; up to ARTIFACT_DOWNLOAD_ATTEMPTS times. */
export async function runDownloadArtifacts(run: JobRun): Promise<JobFailure | undefined> {
  const { job } = run.script;
  if (!job.dependencies.some((dependency) => dependency.artifacts_file?.filename)) return undefined;
  const result = await withAttempts(run, run.settings.artifactDownloadAttempts, () =>
    runHost(run, STAGE.downloadArtifacts, (signal) =>
      downloadArtifacts({ ...hostInput(run, signal), transport: run.artifacts }),
    ),
  );
  if (result.kind === 'error') return { kind: 'artifact-download', message: errorMessage(result.error) };
  return stageFailure(run, STAGE.downloadArtifacts, result, run.control.job);
}

/** Builds the stage's script afresh and runs it under the job signal; no script, nothing to do. */
export async function runGeneratedScript(
  run: JobRun,
  stage: ScriptStage,
  signal = run.control.job,
): Promise<StageResult> {
  let script: string | undefined;
  try {
    script = buildStageScript(stage, run.script);
  } catch (error) {
    return { kind: 'error', error };
  }
  return script === undefined ? { kind: 'ok' } : runScript(run, stage, script, signal);
}

/** Runs a host-side step in its section under the job signal. */
export function runHost(
  run: JobRun,
  stage: string,
  step: (signal: AbortSignal) => Promise<unknown>,
): Promise<StageResult> {
  const signal = run.control.job;
  return runHostStage({
    trace: run.trace,
    name: stage,
    description: stageDescription(stage),
    signal,
    abortSettleMs: run.tuning.abortSettleMs,
    run: async () => void (await step(signal)),
  });
}

/** The fields every cache and artifact step takes. */
export function hostInput(run: JobRun, signal: AbortSignal) {
  return {
    env: run.env,
    job: run.script.job,
    projectDir: run.script.projectDir,
    log: (line: string) => run.trace.helperLine(line),
    signal,
  };
}
