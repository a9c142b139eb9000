// PUT /jobs/:id: job acceptance, keep-alives and the final state (protocol reference §5, §2.6).
import { setTimeout as sleep } from 'node:timers/promises';
import { TartError } from '../errors.js';
import { mapFailureReason } from './failure-reason.js';
import { headerValue, httpError, type ApiResponse } from './api-response.js';
import { callApi } from './http.js';
import type { ConnectionOptions } from './registration.js';
import type { RunnerInfo } from './runner-info.js';

export type UpdateOutcome =
  /** The state was applied. Check `jobStatus === 'canceling'`: GitLab asks for a graceful cancel. */
  | 'accepted'
  /** GitLab canceled the job (`Job-Status: canceled`, or a 403 while canceling). Stop now. */
  | 'canceled'
  /** The job is no longer this runner's (403/404, `Job-Status: failed`…). Stop silently. */
  | 'gone';

export interface UpdateJobResult {
  outcome: UpdateOutcome;
  /** The server's `Job-Status` header, when sent. */
  jobStatus?: string;
}

export interface UpdateJobOptions extends ConnectionOptions {
  jobId: number;
  jobToken: string;
  state: 'running' | 'success' | 'failed' | 'pending';
  /** Tart's reason; mapped through `supportedFailureReasons` (§5.4) unless `sendReasonUnmapped`. */
  failureReason?: string;
  /** The job's `features.failure_reasons`. */
  supportedFailureReasons?: readonly string[];
  sendReasonUnmapped?: boolean;
  /** Sent only when non-zero. */
  exitCode?: number;
  /** `crc32:%08x` of the whole trace. */
  checksum?: string;
  bytesize?: number;
  info?: RunnerInfo;
  signal?: AbortSignal;
  /** While GitLab answers 202 (“log still being persisted”), wait and resend, at most this many times. Default 60. */
  maxAcceptWaits?: number;
  /** Wait after a 202 without `X-GitLab-Trace-Update-Interval`. Default 3 s. */
  defaultAcceptWaitMs?: number;
  /** Upper bound on any single 202 wait. Default 64 s (the server's largest backoff). */
  maxAcceptWaitMs?: number;
  /** Tries of a final state when PUT fails outright (gitlab-runner: 10). Running/pending updates are tried once. */
  finalUpdateAttempts?: number;
  /** Multiplies the 1 s-doubling wait between final-update tries (tests use a small value). */
  finalUpdateBackoffScale?: number;
}

/**
 * Sends one state update; follows 202s until GitLab accepts the state. A final state (success,
 * failed) that fails outright is retried like gitlab-runner's final update (10 tries, 1 s doubling).
 * Throws GITLAB_UPDATE_FAILED (or the transport error) when it cannot be delivered.
 */
export async function updateJob(options: UpdateJobOptions): Promise<UpdateJobResult> {
  const body = updateBody(options);
  const maxWaits = options.maxAcceptWaits ?? 60;
  const isFinal = options.state === 'success' || options.state === 'failed';
  const maxFailures = isFinal ? (options.finalUpdateAttempts ?? 10) : 1;
  let waits = 0;
  for (let failures = 0; ;) {
    let result: UpdateJobResult | 'retry-later';
    try {
      result = await putOnce(options, body);
    } catch (error) {
      if ((error instanceof TartError && error.code === 'ABORTED') || ++failures >= maxFailures) throw error;
      await pause(
        Math.min(1000 * 2 ** (failures - 1), 60_000) * (options.finalUpdateBackoffScale ?? 1),
        options,
      );
      continue;
    }
    if (result !== 'retry-later') return result;
    if (waits++ >= maxWaits)
      throw new TartError(
        'GITLAB_UPDATE_FAILED',
        `PUT /jobs/:id: still not accepted after ${maxWaits} waits`,
        {
          details: { status: 202 },
        },
      );
  }
}

// One PUT (with HTTP-level retries): a result, 'retry-later' after waiting as a 202 asks, or a throw.
async function putOnce(
  options: UpdateJobOptions,
  body: Record<string, unknown>,
): Promise<UpdateJobResult | 'retry-later'> {
  const response = await callApi(options, {
    method: 'PUT',
    endpoint: '/jobs/:id',
    params: { id: options.jobId },
    json: body,
    headers: { 'JOB-TOKEN': options.jobToken },
    signal: options.signal,
  });
  const result = classifyUpdateResponse(response);
  if (result === 'failed')
    throw httpError('GITLAB_UPDATE_FAILED', 'PUT /jobs/:id', response, [options.jobToken]);
  if (result === 'retry-later' && (options.maxAcceptWaits ?? 60) > 0)
    await waitAsServerAsks(response, options);
  return result;
}

export interface AcceptJobOptions extends ConnectionOptions {
  jobId: number;
  jobToken: string;
  info?: RunnerInfo;
  signal?: AbortSignal;
}

/**
 * The PUT state=running right after a 201 (two-phase commit, §2.6). `accepted` with
 * `jobStatus: 'canceling'` means: finish the job as canceled at once; `canceled`/`gone`: drop it silently.
 */
export async function acceptJob(options: AcceptJobOptions): Promise<UpdateJobResult> {
  return updateJob({ ...options, state: 'running' });
}

/** The JSON body exactly as §5.1: empty fields omitted, `output` always present. */
export function updateBody(options: UpdateJobOptions): Record<string, unknown> {
  const failed = options.state === 'failed';
  const reason = failed
    ? options.sendReasonUnmapped
      ? options.failureReason
      : mapFailureReason(options.failureReason, options.supportedFailureReasons)
    : undefined;
  const output = {
    ...(options.checksum ? { checksum: options.checksum } : {}),
    ...(options.bytesize ? { bytesize: options.bytesize } : {}),
  };
  return {
    ...(options.info ? { info: options.info } : {}),
    token: options.jobToken,
    state: options.state,
    ...(reason ? { failure_reason: reason } : {}),
    ...(options.checksum ? { checksum: options.checksum } : {}),
    output,
    ...(failed && options.exitCode ? { exit_code: options.exitCode } : {}),
  };
}

/** What a PUT or PATCH response means for the job, from its status and `Job-Status` (§5.2). */
export function classifyUpdateResponse(response: ApiResponse): UpdateJobResult | 'retry-later' | 'failed' {
  const jobStatus = headerValue(response.headers, 'job-status');
  const withStatus = (outcome: UpdateOutcome): UpdateJobResult =>
    jobStatus ? { outcome, jobStatus } : { outcome };
  if (jobStatus === 'canceled') return withStatus('canceled');
  if (jobStatus === 'failed') return withStatus('gone');
  if (response.status === 403) return withStatus(jobStatus === 'canceling' ? 'canceled' : 'gone');
  if (response.status === 404) return withStatus('gone');
  if (response.status === 200 || response.status === 201) return withStatus('accepted');
  if (response.status === 202) return 'retry-later';
  return 'failed';
}

async function waitAsServerAsks(response: ApiResponse, options: UpdateJobOptions): Promise<void> {
  const seconds = Number(headerValue(response.headers, 'x-gitlab-trace-update-interval'));
  const wanted =
    Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : (options.defaultAcceptWaitMs ?? 3000);
  await pause(Math.min(wanted, options.maxAcceptWaitMs ?? 64_000), options);
}

async function pause(ms: number, options: UpdateJobOptions): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: options.signal });
  } catch (cause) {
    throw new TartError('ABORTED', 'PUT /jobs/:id: aborted while waiting for GitLab', { cause });
  }
}
