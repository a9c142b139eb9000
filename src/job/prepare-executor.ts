// The prepare_executor stage: acquire an environment from the executor, retried as
// gitlab-runner does (3 attempts, 3 s apart; a user error is not retried), then start the job's
// services in it (gitlab-runner starts them within Prepare too).
import { UserError } from '../errors.js';
import type { Executor, JobEnvironment } from '../executor/types.js';
import type { JobPayload } from '../model/payload.js';
import { errorMessage, settleWithin, sleep } from './abortable.js';
import type { JobFailure } from './failure.js';
import type { JobControl } from './job-control.js';
import type { EngineTuning } from './job-run.js';
import { stopFailure } from './job-run.js';
import { prepareExecutorDescription, STAGE } from './stage-names.js';
import type { TraceWriter } from './trace-writer.js';

export async function prepareEnvironment(input: {
  executor: Executor;
  job: JobPayload;
  trace: TraceWriter;
  control: JobControl;
  tuning: EngineTuning;
  jobTimeoutMs: number;
  /** Runs in the section once the environment is there (services); a throw fails the job. */
  onReady?: (env: JobEnvironment) => Promise<void>;
}): Promise<{ env: JobEnvironment } | { failure: JobFailure }> {
  const { executor, trace, control, tuning } = input;
  const signal = control.job;
  trace.sectionStart(STAGE.prepareExecutor, prepareExecutorDescription(executor.name));
  try {
    for (let attempt = 1; ; attempt++) {
      const pending = executor.prepare({ job: input.job, log: (line) => trace.plain(line), signal });
      const settled = await settleWithin(pending, signal, tuning.abortSettleMs);
      if ('value' in settled && !signal.aborted) return await whenReady(settled.value, input.onReady, trace, control, input.jobTimeoutMs);
      if (signal.aborted) {
        // An environment that arrives after the stop is released at once.
        void pending.then(
          (env) => env.close(),
          () => undefined,
        );
        return { failure: stopFailure(control.jobStop, input.jobTimeoutMs) };
      }
      const error = 'error' in settled ? settled.error : undefined;
      trace.error(`Preparation failed: ${errorMessage(error)}`);
      const reason = failureReasonOf(error);
      // gitlab-runner's BuildErrors (image pulls among them) are not retried.
      if (reason !== undefined && reason !== 'runner_system_failure') return { failure: { kind: 'system', message: errorMessage(error), reason } };
      if (attempt >= tuning.prepareAttempts || error instanceof UserError) {
        return { failure: { kind: 'system', message: errorMessage(error) } };
      }
      trace.plain(`Will be retried in ${Math.round(tuning.prepareRetryDelayMs / 1000)}s ...`);
      if (!(await sleep(tuning.prepareRetryDelayMs, signal)))
        return { failure: stopFailure(control.jobStop, input.jobTimeoutMs) };
    }
  } finally {
    trace.sectionEnd(STAGE.prepareExecutor);
  }
}

// The environment after onReady; one that cannot get ready is released and fails the job.
async function whenReady(
  env: JobEnvironment,
  onReady: ((env: JobEnvironment) => Promise<void>) | undefined,
  trace: TraceWriter,
  control: JobControl,
  jobTimeoutMs: number,
): Promise<{ env: JobEnvironment } | { failure: JobFailure }> {
  try {
    await onReady?.(env);
    return { env };
  } catch (error) {
    await env.close().catch(() => undefined);
    if (control.job.aborted) return { failure: stopFailure(control.jobStop, jobTimeoutMs) };
    trace.error(`Preparation failed: ${errorMessage(error)}`);
    const reason = failureReasonOf(error);
    return { failure: { kind: 'system', message: errorMessage(error), ...(reason === undefined ? {} : { reason }) } };
  }
}

// Errors that name their own failure_reason (src/oci ImagePullError).
function failureReasonOf(error: unknown): string | undefined {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return error instanceof Error && typeof reason === 'string' ? reason : undefined;
}
