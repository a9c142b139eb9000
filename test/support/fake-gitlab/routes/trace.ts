// PATCH /jobs/:id/trace: appends log bytes at exactly the current size (protocol §4.2).
import { emptyReply, headerValue, messageReply, readBody, type Reply } from '../http-io.js';
import type { FakeJob } from '../state.js';
import { isReply, jobForToken, rejectUnlessActive, type RouteContext } from './context.js';

const MAX_PATCH_BYTES = 1024 * 1024;
// Read a little past the protocol limit so an oversized patch is seen and reported, not cut.
const READ_LIMIT = 8 * MAX_PATCH_BYTES;

export async function patchTrace(ctx: RouteContext): Promise<Reply> {
  const { bytes, tooLarge } = await readBody(ctx.req, READ_LIMIT);
  const found = jobForToken(
    ctx,
    headerValue(ctx.req, 'job-token') ?? ctx.url.searchParams.get('token') ?? undefined,
  );
  if (isReply(found)) return found;
  const job = found;
  const rejection = rejectUnlessActive(job);
  if (rejection !== undefined) return rejection;
  const contentRange = headerValue(ctx.req, 'content-range');
  if (contentRange === undefined) return messageReply(400, '400 Missing header Content-Range');
  const range = /^(\d+)-(\d+)$/.exec(contentRange);
  if (range === null) return messageReply(400, '400 Bad request - Content-Range must be <start>-<end>');
  if (tooLarge) return messageReply(413, '413 Request Entity Too Large');

  const start = Number(range[1]);
  checkPatchShape(ctx, job, { start, end: Number(range[2]), body: bytes });
  if (ctx.faults.takeSpecial('trace', 'trace-416') !== undefined || start !== job.rawTrace.length) {
    return emptyReply(416, { Range: `0-${job.rawTrace.length}` });
  }
  job.rawTrace = Buffer.concat([job.rawTrace, bytes]);
  job.tracePatches += 1;
  ctx.state.jobChanged(job);
  // Range's second number is the new size (exclusive end), unlike Content-Range (§4.2).
  return emptyReply(202, {
    Range: `0-${job.rawTrace.length}`,
    'Job-Status': job.state,
    'X-GitLab-Trace-Update-Interval': String(ctx.options.traceUpdateInterval),
  });
}

/** Records what GitLab accepts silently but a correct runner never sends (§4.1, §9.4). */
function checkPatchShape(
  ctx: RouteContext,
  job: FakeJob,
  patch: { start: number; end: number; body: Buffer },
): void {
  const length = patch.body.length;
  if (length === 0) ctx.state.violation(`job ${job.id}: empty trace patch`);
  if (length > MAX_PATCH_BYTES)
    ctx.state.violation(`job ${job.id}: trace patch of ${length} bytes (max 1 MiB)`);
  if (length > 0 && patch.end !== patch.start + length - 1) {
    ctx.state.violation(
      `job ${job.id}: Content-Range ${patch.start}-${patch.end} does not match a ${length}-byte body`,
    );
  }
  if (headerValue(ctx.req, 'job-token') === undefined)
    ctx.state.violation(`job ${job.id}: trace patch without JOB-TOKEN header`);
  if (leaksToken(job, patch.body))
    ctx.state.violation(`job ${job.id}: trace contains the job token unmasked`);
}

/** The runner must mask the job token before sending (§7.5); checked across the patch boundary. */
function leaksToken(job: FakeJob, body: Buffer): boolean {
  if (job.token === '' || body.length === 0) return false;
  const tail = job.rawTrace.subarray(Math.max(0, job.rawTrace.length - job.token.length + 1));
  return Buffer.concat([tail, body]).includes(job.token);
}
