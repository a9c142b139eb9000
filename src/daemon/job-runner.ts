// One received job, from the 201 to the final update (protocol reference §2.6, §4, §5):
// parse → accept (two-phase commit) → trace → run → flush → final PUT with checksum.
import { tmpdir } from 'node:os';
import { GitLabArtifactTransport } from '../gitlab/artifacts-transport.js';
import type { TlsFiles } from '../gitlab/http.js';
import { parseJobPayload } from '../gitlab/parse-payload.js';
import type { JobPayload } from '../model/payload.js';
import type { RunnerInfo } from '../gitlab/runner-info.js';
import { TraceBuffer } from '../gitlab/trace-buffer.js';
import { TraceSender } from '../gitlab/trace-sender.js';
import { acceptJob, updateJob } from '../gitlab/update-job.js';
import type { Executor } from '../executor/types.js';
import { errorLine } from '../job/log-format.js';
import type { CancelReason, JobOutcome, RunJobOptions, RunnerSettings } from '../job/types.js';
import type { Logger } from '../log/logger.js';
import { isTruthy } from '../model/variables.js';

export interface JobRunnerContext {
  url: string;
  tls?: TlsFiles;
  tartVersion: string;
  info: RunnerInfo;
  runner: RunnerSettings;
  outputLimitBytes: number;
  executor: Executor;
  logger: Logger;
  /** Aborted with { kind: 'shutdown' } when the daemon stops forcefully. */
  shutdown: AbortSignal;
  runJob: (options: RunJobOptions) => Promise<JobOutcome>;
  onRequest?: (event: { endpoint: string; method: string; status: number; durationMs: number }) => void;
  /** Trace sender pacing, for tests; defaults are gitlab-runner's. */
  traceUpdateIntervalMs?: number;
  /** For tests: keep-alive PUT after this much silence (default gitlab-runner's forceSendInterval, 30 s). */
  traceForceSendIntervalMs?: number;
}

export type HandledJob =
  | { result: 'finished'; jobId: number; outcome: JobOutcome }
  | { result: 'rejected'; jobId?: number; reason: string }
  | { result: 'dropped'; jobId: number };

/** Runs one job from its 201 body to the final update. Never rejects. */
export async function handleReceivedJob(raw: unknown, context: JobRunnerContext): Promise<HandledJob> {
  const parsed = parseJobPayload(raw);
  if (!parsed.ok) return rejectMalformedJob(parsed, context);
  const job = parsed.job;
  const log = context.logger.child({ job: job.id });
  log.addSecret(job.token);
  try {
    return await runAcceptedJob(job, context, log);
  } catch (error) {
    log.error('job handling failed', { error: error instanceof Error ? error.message : String(error) });
    return {
      result: 'rejected',
      jobId: job.id,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}

async function runAcceptedJob(job: JobPayload, context: JobRunnerContext, log: Logger): Promise<HandledJob> {
  const connection = connectionOf(context);
  const trace = await TraceBuffer.create({ limitBytes: context.outputLimitBytes });
  const traceFailure = watchTraceStorage(trace, log);
  try {
    const accepted = await acceptJob({
      ...connection,
      jobId: job.id,
      jobToken: job.token,
      info: context.info,
    });
    if (accepted.outcome !== 'accepted') {
      log.warn('job was canceled before it started; dropping it', { status: accepted.jobStatus });
      return { result: 'dropped', jobId: job.id };
    }
    if (accepted.jobStatus === 'canceling') {
      // §2.6: finish at once as canceled, with the reason sent unmapped.
      await updateJob({
        ...connection,
        jobId: job.id,
        jobToken: job.token,
        state: 'failed',
        failureReason: 'job_canceled',
        sendReasonUnmapped: true,
        checksum: trace.checksum,
        bytesize: trace.size,
      });
      return { result: 'dropped', jobId: job.id };
    }
    log.info('job started', {
      name: job.job_info.name,
      project: job.job_info.project_full_path ?? job.job_info.project_id,
    });

    const sender = new TraceSender({
      ...connection,
      jobId: job.id,
      jobToken: job.token,
      buffer: trace,
      info: context.info,
      debugTrace: isDebugTrace(job, context.runner),
      ...(context.traceUpdateIntervalMs ? { updateIntervalMs: context.traceUpdateIntervalMs } : {}),
      // As gitlab-runner: a keep-alive PUT only after forceSendInterval (30 s) without a successful send.
      ...(context.traceForceSendIntervalMs ? { forceSendIntervalMs: context.traceForceSendIntervalMs } : {}),
    });
    const cancel = linkCancel(context.shutdown, sender);
    sender.start();
    const started = Date.now();
    const outcome = await context.runJob({
      job,
      executor: context.executor,
      runner: context.runner,
      trace,
      artifacts: new GitLabArtifactTransport({ ...connection }),
      cancel: cancel.signal,
      hardCancel: cancel.hard,
    });
    cancel.dispose();
    trace.end();
    await trace.whenComplete();
    const reported = traceFailure.outcome() ?? reportedOutcome(outcome, cancel.signal);
    if (sender.aborted) {
      await sender.stop();
      log.warn('job was canceled by GitLab', { durationMs: Date.now() - started });
      return { result: 'finished', jobId: job.id, outcome: reported };
    }
    await sender.finish();
    await updateJob({
      ...connection,
      jobId: job.id,
      jobToken: job.token,
      state: reported.state,
      failureReason: reported.failureReason,
      supportedFailureReasons: job.features.failure_reasons,
      exitCode: reported.exitCode,
      checksum: trace.checksum,
      bytesize: trace.size,
      info: context.info,
    });
    log.info('job finished', {
      state: reported.state,
      failureReason: reported.failureReason,
      exitCode: reported.exitCode,
      durationMs: Date.now() - started,
    });
    return { result: 'finished', jobId: job.id, outcome: reported };
  } finally {
    await trace.close();
  }
}

// A payload that cannot run: fail the job with the reason when id and token are usable (§2.6).
async function rejectMalformedJob(
  parsed: { reason: string; id?: number; token?: string },
  context: JobRunnerContext,
): Promise<HandledJob> {
  const log = context.logger.child(parsed.id === undefined ? {} : { job: parsed.id });
  log.error('received a malformed job payload', { reason: parsed.reason });
  if (parsed.id === undefined || parsed.token === undefined)
    return { result: 'rejected', reason: parsed.reason };
  log.addSecret(parsed.token);
  const connection = connectionOf(context);
  const trace = await TraceBuffer.create({ limitBytes: context.outputLimitBytes });
  try {
    trace.end(errorLine(`Job failed (system failure): invalid job payload: ${parsed.reason}`));
    await trace.whenComplete();
    const sender = new TraceSender({
      ...connection,
      jobId: parsed.id,
      jobToken: parsed.token,
      buffer: trace,
    });
    await updateJob({
      ...connection,
      jobId: parsed.id,
      jobToken: parsed.token,
      state: 'running',
      info: context.info,
    }).catch(() => undefined);
    await sender.finish();
    await updateJob({
      ...connection,
      jobId: parsed.id,
      jobToken: parsed.token,
      state: 'failed',
      failureReason: 'runner_system_failure',
      exitCode: 3,
      checksum: trace.checksum,
      bytesize: trace.size,
      info: context.info,
    });
  } catch (error) {
    log.error('could not report the malformed job', {
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    await trace.close();
  }
  return { result: 'rejected', jobId: parsed.id, reason: parsed.reason };
}

// The GitLab connection options every call of this job uses.
function connectionOf(context: JobRunnerContext) {
  return {
    url: context.url,
    tls: context.tls,
    tartVersion: context.tartVersion,
    onRequest: context.onRequest,
  };
}

// The engine's cancel signals: the first cancel (graceful or not) aborts `signal`; a later hard
// one (GitLab's `canceled` after `canceling`, or the daemon's shutdown) aborts `hard` too.
function linkCancel(
  shutdown: AbortSignal,
  sender: TraceSender,
): { signal: AbortSignal; hard: AbortSignal; dispose: () => void } {
  const first = new AbortController();
  const hard = new AbortController();
  const abort = (reason: CancelReason) => {
    if (!first.signal.aborted) first.abort(reason);
    else if (reason.kind !== 'canceling' && !hard.signal.aborted) hard.abort(reason);
  };
  const onShutdown = () => abort({ kind: 'shutdown' });
  if (shutdown.aborted) onShutdown();
  shutdown.addEventListener('abort', onShutdown, { once: true });
  sender.on('cancel', abort);
  return {
    signal: first.signal,
    hard: hard.signal,
    dispose: () => {
      shutdown.removeEventListener('abort', onShutdown);
      sender.off('cancel', abort);
    },
  };
}

// A job stopped by the daemon's shutdown is reported as runner_interrupted (§8.7).
// The trace buffer is a file in the host's temp dir; when it cannot be written (ENOSPC, EIO) the
// job's output is lost, so the job cannot be reported as it ran: it fails as a system failure
// naming the cause, and the daemon log says what failed.
function watchTraceStorage(trace: TraceBuffer, log: Logger): { outcome: () => JobOutcome | undefined } {
  let failure: Error | undefined;
  trace.on('error', (error: Error) => {
    if (failure !== undefined) return;
    failure = error;
    log.error(`the job trace could not be stored in ${tmpdir()}`, { error: error.message });
  });
  return {
    outcome: () =>
      failure === undefined
        ? undefined
        : {
            state: 'failed',
            failureReason: 'runner_system_failure',
            message: `Job failed (system failure): the job trace could not be stored in ${tmpdir()}: ${failure.message}`,
          },
  };
}

function reportedOutcome(outcome: JobOutcome, cancel: AbortSignal): JobOutcome {
  const reason = cancel.reason as CancelReason | undefined;
  if (cancel.aborted && reason?.kind === 'shutdown' && outcome.state === 'failed') {
    return { ...outcome, failureReason: 'runner_interrupted' };
  }
  return outcome;
}

// gitlab-runner's IsDebugTraceEnabled: strconv.ParseBool of either variable, unless the runner disables it.
function isDebugTrace(job: JobPayload, runner: RunnerSettings): boolean {
  if (runner.debugTraceDisabled) return false;
  const value = (key: string) => job.variables.findLast((variable) => variable.key === key)?.value;
  return ['CI_DEBUG_TRACE', 'CI_DEBUG_SERVICES'].some((key) => isTruthy(value(key)));
}
