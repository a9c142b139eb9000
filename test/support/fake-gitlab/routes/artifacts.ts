// Artifact upload and download (protocol §6).
import { createHash } from 'node:crypto';
import { headerValue, messageReply, missingParamReply, readBody, type Reply } from '../http-io.js';
import { multipartBoundary, parseMultipart, type MultipartPart } from '../multipart.js';
import { ACTIVE_STATES, randomHex, type FakeJob } from '../state.js';
import { FORBIDDEN, isReply, jobForToken, rejectUnlessActive, type RouteContext } from './context.js';

/** artifact_type → the only artifact_format Rails accepts for it (§6.1). */
const FORMAT_FOR_TYPE: Record<string, string> = {
  archive: 'zip',
  metadata: 'gzip',
  trace: 'raw',
  lsif: 'zip',
  ...Object.fromEntries(
    [
      'junit',
      'metrics',
      'metrics_referee',
      'network_referee',
      'dotenv',
      'cobertura',
      'cluster_applications',
      'cyclonedx',
    ].map((t) => [t, 'gzip']),
  ),
  ...Object.fromEntries(
    [
      'sast',
      'secret_detection',
      'dependency_scanning',
      'container_scanning',
      'cluster_image_scanning',
      'dast',
      'license_scanning',
      'accessibility',
      'codequality',
      'performance',
      'browser_performance',
      'load_performance',
      'terraform',
      'requirements',
      'requirements_v2',
      'coverage_fuzzing',
      'api_fuzzing',
    ].map((t) => [t, 'raw']),
  ),
};
// Room for the multipart framing around the file, so the size check applies to the file itself.
const MULTIPART_OVERHEAD = 64 * 1024;

/** POST /jobs/:id/artifacts: one multipart part named `file`, type and format as query params. */
export async function uploadArtifact(ctx: RouteContext): Promise<Reply> {
  const { bytes, tooLarge } = await readBody(ctx.req, ctx.options.maxArtifactSize + MULTIPART_OVERHEAD);
  const headerToken = headerValue(ctx.req, 'job-token');
  const found = jobForToken(ctx, headerToken ?? ctx.url.searchParams.get('token') ?? undefined);
  if (isReply(found)) return found;
  const job = found;
  if (headerToken === undefined)
    ctx.state.violation(`job ${job.id}: artifact upload without JOB-TOKEN header`);
  const rejection = rejectUnlessActive(job);
  if (rejection !== undefined) return rejection;
  if (tooLarge) return messageReply(413, '413 Request Entity Too Large');

  const parsed = parseUploadBody(ctx, bytes);
  if (isReply(parsed)) return parsed;
  const { file, fields } = parsed;
  const type = ctx.url.searchParams.get('artifact_type') ?? fields.get('artifact_type');
  const format = ctx.url.searchParams.get('artifact_format') ?? fields.get('artifact_format');
  if (type === undefined || type === '') return missingParamReply('artifact_type');
  if (format === undefined || format === '') return missingParamReply('artifact_format');
  if (FORMAT_FOR_TYPE[type] !== format)
    return messageReply(400, `400 Bad request - Invalid artifact format ${format} for ${type}`);
  if (file.data.length > ctx.options.maxArtifactSize)
    return messageReply(413, '413 Request Entity Too Large');
  const reply = storeArtifact(job, {
    type,
    format,
    filename: file.filename ?? 'artifacts',
    expireIn: ctx.url.searchParams.get('expire_in') ?? fields.get('expire_in'),
    bytes: Buffer.from(file.data),
  });
  ctx.state.jobChanged(job);
  return reply;
}

/** GET /jobs/:id/artifacts: the archive, for any running job's token (§6.2). */
export async function downloadArtifact(ctx: RouteContext): Promise<Reply> {
  await readBody(ctx.req, 0);
  const token = headerValue(ctx.req, 'job-token') ?? ctx.url.searchParams.get('job_token') ?? undefined;
  const requester = token === undefined ? undefined : ctx.state.jobByToken(token);
  if (requester === undefined || !ACTIVE_STATES.includes(requester.state))
    return messageReply(403, FORBIDDEN);
  const archive = ctx.state.jobs.get(ctx.jobId)?.artifacts.get('archive');
  if (archive === undefined) return messageReply(404, '404 Not Found');
  if (ctx.options.artifactsDownloadRedirect && ctx.url.searchParams.get('direct_download') === 'true') {
    const secret = randomHex(16);
    ctx.state.objectStore.set(secret, archive.bytes);
    return { status: 302, headers: { Location: `/_object-storage/${secret}` } };
  }
  return fileReply(archive.bytes, archive.filename);
}

/** GET /_object-storage/:secret: the redirect target; authorised by its secret path alone. */
export async function downloadObject(ctx: RouteContext): Promise<Reply> {
  await readBody(ctx.req, 0);
  const secret = ctx.url.pathname.split('/').at(-1) ?? '';
  const bytes = ctx.state.objectStore.get(secret);
  return bytes === undefined ? messageReply(404, '404 Not Found') : fileReply(bytes, 'artifacts.zip');
}

function parseUploadBody(
  ctx: RouteContext,
  bytes: Buffer,
): { file: MultipartPart; fields: Map<string, string> } | Reply {
  const boundary = multipartBoundary(headerValue(ctx.req, 'content-type'));
  if (boundary === undefined) return missingParamReply('file');
  const result = parseMultipart(bytes, boundary);
  if (!result.ok) return messageReply(400, `400 Bad request - malformed multipart body: ${result.error}`);
  const files = result.parts.filter((part) => part.name === 'file');
  const file = files[0];
  if (file === undefined || file.filename === undefined) return missingParamReply('file');
  if (result.parts.length !== 1) {
    ctx.state.violation(
      `artifact upload with parts ${result.parts.map((p) => p.name).join(',')} (expected only "file")`,
    );
  }
  const fields = new Map(
    result.parts.filter((p) => p.filename === undefined).map((p) => [p.name, p.data.toString('utf8')]),
  );
  return { file, fields };
}

function storeArtifact(
  job: FakeJob,
  artifact: { type: string; format: string; filename: string; expireIn: string | undefined; bytes: Buffer },
): Reply {
  const existing = job.artifacts.get(artifact.type);
  if (existing !== undefined && sha256(existing.bytes) !== sha256(artifact.bytes)) {
    return messageReply(400, '400 Bad request - artifact already exists with a different checksum');
  }
  const { expireIn, ...rest } = artifact;
  job.artifacts.set(artifact.type, expireIn === undefined ? rest : { ...rest, expireIn });
  return { status: 201, headers: { 'Content-Type': 'text/plain' }, body: '201' };
}

function fileReply(bytes: Buffer, filename: string): Reply {
  return {
    status: 200,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${filename}"`,
    },
    body: bytes,
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
