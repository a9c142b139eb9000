// What every stage of one job needs, and how a stage's result becomes a job failure.
import type { ArtifactTransport } from '../artifacts/transport.js';
import type { CacheStore } from '../cache/store.js';
import type { JobEnvironment } from '../executor/types.js';
import type { ScriptContext } from '../shell/stage-script.js';
import { errorMessage, sleep } from './abortable.js';
import type { JobFailure } from './failure.js';
import { handBuildDirToUser, umaskDisabled } from './build-dir-owner.js';
import type { JobControl, StopReason } from './job-control.js';
import type { EngineSettings } from './settings.js';
import { jobTimeoutMessage } from './settings.js';
import { stageDescription } from './stage-names.js';
import { DEFAULT_ABORT_SETTLE_MS, runScriptStage, type StageResult } from './stages.js';
import type { TraceWriter } from './trace-writer.js';

/** Timings the engine uses; tests shorten them. */
export interface EngineTuning {
  /** executor.prepare attempts and the pause between them (gitlab-runner: 3, 3 s). */
  prepareAttempts: number;
  prepareRetryDelayMs: number;
  /** Pause before retry `attempt` (2, 3, …) of a stage (exponential from 5 s, capped at 5 min). */
  retryDelayMs: (attempt: number) => number;
  /** How long an aborted stage may take to settle before the engine stops waiting. */
  abortSettleMs: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  prepareAttempts: 3,
  prepareRetryDelayMs: 3000,
  retryDelayMs: (attempt) => Math.min(5000 * 2 ** (attempt - 2), 5 * 60_000),
  abortSettleMs: DEFAULT_ABORT_SETTLE_MS,
};

export interface JobRun {
  env: JobEnvironment;
  trace: TraceWriter;
  control: JobControl;
  settings: EngineSettings;
  /** Variables, dirs and flags the stage scripts are built from. */
  script: ScriptContext;
  artifacts: ArtifactTransport;
  cacheStore: CacheStore;
  tuning: EngineTuning;
  jobTimeoutMs: number;
}

const TIMEOUT_HELP =
  'For more control over job and script timeouts see: https://docs.gitlab.com/ci/runners/configure_runners/#set-script-and-after_script-timeouts';

/** The failure for a stop from outside (deadline, cancel, shutdown, script timeout). */
export function stopFailure(reason: StopReason | undefined, jobTimeoutMs: number): JobFailure {
  switch (reason?.kind) {
    case 'timeout':
      return { kind: 'timeout', message: jobTimeoutMessage(jobTimeoutMs) };
    case 'script-timeout':
      return { kind: 'timeout', message: 'script timeout: context deadline exceeded' };
    case 'shutdown':
      return { kind: 'interrupted' };
    case 'canceling':
    case 'canceled':
    case undefined:
      return { kind: 'canceled' };
  }
}

/** Maps a stage result to a job failure (undefined: the stage succeeded), warning about timeouts. */
export function stageFailure(
  run: JobRun,
  stage: string,
  result: StageResult,
  signal: AbortSignal,
): JobFailure | undefined {
  switch (result.kind) {
    case 'ok':
      return undefined;
    case 'exit':
      return { kind: 'script', exitCode: result.exitCode };
    case 'error':
      return { kind: 'system', message: errorMessage(result.error) };
    case 'stopped': {
      const reason = (signal.reason ?? run.control.jobStop) as StopReason | undefined;
      if (reason?.kind === 'timeout' || reason?.kind === 'script-timeout') {
        run.trace.warning(
          `${stage} could not run to completion because the timeout was exceeded. ${TIMEOUT_HELP}`,
        );
      }
      return stopFailure(reason, run.jobTimeoutMs);
    }
  }
}

/** The warning after_script gets when its own timeout ends it. */
export function afterScriptTimeoutWarning(): string {
  return `after_script could not run to completion because the timeout was exceeded. ${TIMEOUT_HELP}`;
}

/**
 * Runs a stage up to `attempts` times (GET_SOURCES_ATTEMPTS and friends): any failure but a stop
 * is retried after a pause, with gitlab-runner's "Retrying..." warning.
 */
export async function withAttempts(
  run: JobRun,
  attempts: number,
  once: (attempt: number) => Promise<StageResult>,
  beforeRetry?: (attempt: number) => Promise<void>,
): Promise<StageResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await once(attempt);
    if (result.kind === 'ok' || result.kind === 'stopped' || attempt >= attempts) return result;
    if (!(await sleep(run.tuning.retryDelayMs(attempt + 1), run.control.job))) return { kind: 'stopped' };
    run.trace.warning('Retrying...');
    await beforeRetry?.(attempt + 1);
  }
}

/**
 * Runs one script stage; a broken environment (not a script failure) is retried up to
 * EXECUTOR_JOB_SECTION_ATTEMPTS times.
 */
export async function runScript(
  run: JobRun,
  stage: string,
  script: string,
  signal: AbortSignal,
): Promise<StageResult> {
  if (isUserStage(stage)) await handBuildDirToUser(run, signal);
  for (let attempt = 1; ; attempt++) {
    const result = await runScriptStage({
      env: run.env,
      trace: run.trace,
      name: stage,
      description: stageDescription(stage),
      script,
      signal,
      abortSettleMs: run.tuning.abortSettleMs,
      command: stageCommand(run, stage),
    });
    if (result.kind !== 'error' || attempt >= run.settings.executorJobSectionAttempts) return result;
    run.trace.warning(`Retrying ${stage}`);
  }
}

// The user's stages run in the job's image; the others in the helper root, under umask 0000
// unless FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is on.
function stageCommand(run: JobRun, stage: string): readonly string[] | undefined {
  if (isUserStage(stage)) return run.env.userScriptCommand;
  return umaskDisabled(run) ? undefined : run.env.helperScriptCommand;
}

// The stages that run in the job's image: the user's own lines.
function isUserStage(stage: string): boolean {
  return stage.startsWith('step_') || stage === 'after_script';
}
