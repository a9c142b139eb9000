// One job's life, independent of where it runs: header, prepare the environment, the stages
// in gitlab-runner's order, the footer, and always the environment's release.
import { createCacheStore } from '../cache/create-store.js';
import type { CacheStore } from '../cache/store.js';
import { hasCode } from '../errors.js';
import type { JobEnvironment } from '../executor/types.js';
import { errorMessage } from './abortable.js';
import { failureOutcome, footerText, type JobFailure } from './failure.js';
import { featureFlagsSummary, isFlagOn, resolveFeatureFlags } from './feature-flags.js';
import { headerLines } from './header.js';
import { JobControl } from './job-control.js';
import { earlyVariables, scriptContextFor, traceMaskingFor } from './job-plan.js';
import { DEFAULT_TUNING, type EngineTuning } from './job-run.js';
import { prepareEnvironment } from './prepare-executor.js';
import { runStages } from './run-stages.js';
import { jobTimeoutMs, readEngineSettings } from './settings.js';
import { TraceWriter } from './trace-writer.js';
import type { JobOutcome, RunJobOptions } from './types.js';
import { checkJobVariables } from './variable-checks.js';
import { getVariable, isTruthy } from './variables.js';
import type { ScriptContext } from '../shell/stage-script.js';
import type { StartServicesOptions } from '../executor/types.js';

export type { EngineTuning } from './job-run.js';

/** Runs one job to its end and says how it ended. Never throws; the trace sink is left open. */
export async function runJob(
  options: RunJobOptions,
  tuning: Partial<EngineTuning> = {},
): Promise<JobOutcome> {
  const { job, runner } = options;
  const engineTuning = { ...DEFAULT_TUNING, ...tuning };
  const timeoutMs = jobTimeoutMs(job.runner_info.timeout);
  const early = earlyVariables(job, runner);
  const featureFlags = resolveFeatureFlags(runner.featureFlags, early);
  const trace = new TraceWriter({
    sink: options.trace,
    masking: traceMaskingFor(job, early),
    traceSections: job.features.trace_sections === true,
    timestamps: options.traceTimestamps !== false && isFlagOn(featureFlags, 'FF_TIMESTAMPS'),
  });
  const settings = readEngineSettings((key) => getVariable(early, key), timeoutMs);
  const control = new JobControl({ cancel: options.cancel, hardCancel: options.hardCancel, timeoutMs });
  let env: JobEnvironment | undefined;
  let cacheStore: CacheStore | undefined;
  let failure: JobFailure | undefined;
  try {
    const flags = featureFlagsSummary(featureFlags);
    for (const line of headerLines(runner, flags)) trace.plain(line);
    if (settings.warnings.length > 0) trace.warning(settings.warnings.join('\n'));
    checkJobVariables(job.variables);
    let script: ScriptContext | undefined;
    const prepared = await prepareEnvironment({
      executor: options.executor,
      job,
      trace,
      control,
      tuning: engineTuning,
      jobTimeoutMs: timeoutMs,
      // Services start with the job's variables, which need the environment.
      onReady: async (ready) => {
        if (!ready.startServices) return;
        script = scriptContextFor({ job, runner, env: ready });
        trace.setMasking(traceMaskingFor(job, script.variables));
        await ready.startServices(servicesOptions(script, runner, trace, control.job));
      },
    });
    if ('failure' in prepared) {
      failure = prepared.failure;
    } else {
      env = prepared.env;
      if (!script) {
        script = scriptContextFor({ job, runner, env });
        trace.setMasking(traceMaskingFor(job, script.variables));
      }
      cacheStore = createCacheStore(runner);
      failure = await runStages({
        env,
        trace,
        control,
        settings,
        script,
        artifacts: options.artifacts,
        cacheStore,
        tuning: engineTuning,
        jobTimeoutMs: timeoutMs,
      });
    }
  } catch (error) {
    failure = hasCode(error, 'JOB_VARIABLE_REFUSED')
      ? { kind: 'refused-input', message: error.message }
      : { kind: 'system', message: errorMessage(error) };
  } finally {
    control.dispose();
    if (failure === undefined) trace.info('Job succeeded');
    else trace.error(footerText(failure));
    // close() never throws by contract; a broken executor must still not lose the outcome.
    await env?.close().catch(() => undefined);
    cacheStore?.close?.();
    await trace.finish();
  }
  return failure === undefined
    ? { state: 'success', message: 'Job succeeded' }
    : failureOutcome(failure, job.features);
}

// CI_DEBUG_SERVICES follows service output into the trace, unless the runner disables debug traces.
function servicesOptions(script: ScriptContext, runner: RunJobOptions['runner'], trace: TraceWriter, signal: AbortSignal): StartServicesOptions {
  const asked = isTruthy(getVariable(script.variables, 'CI_DEBUG_SERVICES'));
  if (asked && runner.debugTraceDisabled) trace.warning('CI_DEBUG_SERVICES: usage is disabled on this Runner');
  return {
    variables: script.variables,
    log: (line) => trace.plain(line),
    write: (text) => trace.write(text),
    followLogs: asked && !runner.debugTraceDisabled,
    signal,
  };
}
