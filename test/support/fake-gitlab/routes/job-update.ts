// PUT /jobs/:id: acceptance, keep-alives and the final state (protocol §5, §2.6, §4.4).
import { crc32 } from 'node:zlib';
import { emptyReply, headerValue, jsonReply, stringField, type JsonBody, type Reply } from '../http-io.js';
import type { FakeJob, JobStatus, JobUpdateRecord } from '../state.js';
import { isReply, jobForToken, readJsonBody, rejectUnlessActive, type RouteContext } from './context.js';

const RUNNER_STATES = ['running', 'success', 'failed', 'pending'];
/** Reasons GitLab accepts even when a payload lists none (§3.13). */
const ALWAYS_SUPPORTED_REASONS = ['script_failure', 'runner_system_failure', 'job_execution_timeout'];

export async function updateJob(ctx: RouteContext): Promise<Reply> {
  const body = await readJsonBody(ctx);
  const found = jobForToken(ctx, headerValue(ctx.req, 'job-token') ?? stringField(body, 'token'));
  if (isReply(found)) return found;
  const job = found;
  const requested = stringField(body, 'state');
  if (requested === undefined || !RUNNER_STATES.includes(requested)) {
    return jsonReply(400, { error: 'state does not have a valid value' });
  }
  const update = describeUpdate(body, requested);
  const reply = applyUpdate(ctx, job, update);
  job.updates.push({ ...update, status: reply.status });
  ctx.state.jobChanged(job);
  return reply;
}

function applyUpdate(ctx: RouteContext, job: FakeJob, update: Omit<JobUpdateRecord, 'status'>): Reply {
  const awaitingAck = job.state === 'pending' && job.assignedTo !== undefined;
  if (!awaitingAck) {
    const rejection = rejectUnlessActive(job);
    if (rejection !== undefined) return rejection;
  }
  if (update.state === 'pending') {
    // A two-phase keep-alive is only valid before the runner acknowledged the job (§2.6).
    return awaitingAck ? statusReply(200, job.state) : jsonReply(409, { message: '409 Conflict' });
  }
  if (update.state === 'running') {
    if (awaitingAck) job.state = 'running';
    return statusReply(200, job.state);
  }
  const pending202 = ctx.faults.takeSpecial('update', 'update-202');
  if (pending202 !== undefined) {
    return emptyReply(202, {
      'X-GitLab-Trace-Update-Interval': String(pending202.interval),
      'Job-Status': job.state,
    });
  }
  finishJob(ctx, job, update);
  return statusReply(200, job.state);
}

/** Applies a final success/failed update: checksum check, reason mapping, state transition. */
function finishJob(ctx: RouteContext, job: FakeJob, update: Omit<JobUpdateRecord, 'status'>): void {
  job.checksumOk = update.checksum === traceChecksum(job.rawTrace);
  job.bytesizeOk = (update.bytesize ?? 0) === job.rawTrace.length;
  if (update.checksum === undefined)
    ctx.state.violation(`job ${job.id}: final update without output.checksum`);
  if (update.state === 'failed') {
    job.failureReasonSent = update.failureReason;
    job.failureReason = storedFailureReason(ctx, job, update.failureReason);
    job.exitCode = update.exitCode;
  } else if (update.failureReason !== undefined) {
    ctx.state.violation(`job ${job.id}: failure_reason sent with state=success`);
  }
  // GitLab's drop/success events move a canceling job to canceled (§5.6).
  const finalState: JobStatus = job.state === 'canceling' ? 'canceled' : (update.state as JobStatus);
  job.state = finalState;
}

/** GitLab stores reasons it does not know as unknown_failure (§5.2); a correct runner maps first. */
function storedFailureReason(ctx: RouteContext, job: FakeJob, reason: string | undefined): string {
  if (reason === undefined) return 'unknown_failure';
  const features = job.payload?.features as { failure_reasons?: unknown } | undefined;
  const listed = Array.isArray(features?.failure_reasons) ? (features.failure_reasons as string[]) : [];
  if ([...listed, ...ALWAYS_SUPPORTED_REASONS].includes(reason)) return reason;
  ctx.state.violation(`job ${job.id}: failure_reason "${reason}" is not in features.failure_reasons`);
  return 'unknown_failure';
}

function describeUpdate(body: JsonBody, state: string): Omit<JobUpdateRecord, 'status'> {
  const output = typeof body.output === 'object' && body.output !== null ? (body.output as JsonBody) : {};
  const update: Omit<JobUpdateRecord, 'status'> = { state };
  const failureReason = stringField(body, 'failure_reason');
  if (failureReason !== undefined) update.failureReason = failureReason;
  if (typeof body.exit_code === 'number') update.exitCode = body.exit_code;
  const checksum = stringField(output, 'checksum') ?? stringField(body, 'checksum');
  if (checksum !== undefined) update.checksum = checksum;
  if (typeof output.bytesize === 'number') update.bytesize = output.bytesize;
  return update;
}

/** `crc32:%08x` over exactly the stored trace bytes (§4.5). */
export function traceChecksum(trace: Buffer): string {
  return `crc32:${(crc32(trace) >>> 0).toString(16).padStart(8, '0')}`;
}

function statusReply(status: number, jobStatus: JobStatus): Reply {
  return { status, headers: { 'Job-Status': jobStatus, 'Content-Type': 'text/plain' }, body: String(status) };
}
