// The user's script: every step_* stage in order, then after_script (job execution
// reference §1.2, §6, §7). Steps listen to the script signal, so a graceful cancel or
// RUNNER_SCRIPT_TIMEOUT stops them while after_script and the upload stages still run.
import type { JobVariable } from '../model/payload.js';
import { buildStageScript } from '../shell/stage-script.js';
import { errorMessage } from './abortable.js';
import { failureMessage, type JobFailure } from './failure.js';
import { afterScriptTimeoutWarning, runScript, stageFailure, type JobRun } from './job-run.js';
import { runGeneratedScript } from './source-stages.js';
import { STAGE, stepStageName } from './stage-names.js';

/** Runs the steps in order, stopping at the first failure. */
export async function runUserSteps(run: JobRun): Promise<JobFailure | undefined> {
  const { control } = run;
  control.startScriptTimeout(run.settings.scriptTimeoutMs);
  for (const step of run.script.job.steps) {
    if (step.name === 'after_script') continue;
    const stage = stepStageName(step.name);
    const result = await runGeneratedScript(run, stage, control.script);
    const failure = stageFailure(run, stage, result, control.script);
    if (failure === undefined) continue;
    if (control.scriptStop?.kind === 'canceling' && control.jobStop === undefined) {
      run.trace.warning('script canceled externally (UI, API)');
    }
    return failure;
  }
  return undefined;
}

/** CI_JOB_STATUS as after_script sees it. */
export function jobStatusFor(failure: JobFailure | undefined, run: JobRun): string {
  if (failure === undefined) return 'success';
  if (run.control.scriptStop?.kind === 'canceling') return 'canceled';
  if (run.control.scriptStop?.kind === 'script-timeout') return 'timedout';
  return 'failed';
}

/**
 * after_script with its own timeout; it never changes the job's result unless
 * AFTER_SCRIPT_IGNORE_ERRORS=false fails an otherwise successful job.
 */
export async function runAfterScript(
  run: JobRun,
  jobFailure: JobFailure | undefined,
): Promise<JobFailure | undefined> {
  const status = jobStatusFor(jobFailure, run);
  const context = {
    ...run.script,
    variables: withJobStatus(run.script.variables, status),
    jobStatus: status,
  };
  let script: string | undefined;
  try {
    script = buildStageScript(STAGE.afterScript, context);
  } catch (error) {
    return afterScriptFailed(run, jobFailure, { kind: 'system', message: errorMessage(error) });
  }
  if (script === undefined) return undefined;
  const signal = run.control.afterScriptSignal(run.settings.afterScriptTimeoutMs);
  const result = await runScript(run, STAGE.afterScript, script, signal);
  if (result.kind === 'stopped' && run.control.jobStop !== undefined) {
    return stageFailure(run, STAGE.afterScript, result, run.control.job);
  }
  if (result.kind === 'stopped') {
    run.trace.warning(afterScriptTimeoutWarning());
    return afterScriptFailed(run, jobFailure, { kind: 'timeout', message: 'context deadline exceeded' });
  }
  const failure = stageFailure(run, STAGE.afterScript, result, signal);
  return failure === undefined ? undefined : afterScriptFailed(run, jobFailure, failure);
}

// Prints gitlab-runner's warning; the failure counts only with AFTER_SCRIPT_IGNORE_ERRORS=false.
function afterScriptFailed(
  run: JobRun,
  jobFailure: JobFailure | undefined,
  failure: JobFailure,
): JobFailure | undefined {
  if (run.settings.afterScriptIgnoreErrors || jobFailure !== undefined) {
    run.trace.warning(`after_script failed, but job will continue unaffected: ${failureMessage(failure)}`);
    return undefined;
  }
  return failure;
}

// The same list with CI_JOB_STATUS set to the outcome (every other stage exports "running").
function withJobStatus(variables: JobVariable[], status: string): JobVariable[] {
  const updated = variables.map((variable) =>
    variable.key === 'CI_JOB_STATUS' ? { ...variable, value: status } : variable,
  );
  return updated.some((variable) => variable.key === 'CI_JOB_STATUS')
    ? updated
    : [...updated, { key: 'CI_JOB_STATUS', value: status }];
}
