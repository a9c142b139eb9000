// The upload_artifacts_on_success / _on_failure stage (job-execution ref §5.2): for every
// artifacts[] entry whose `when` matches, select files in the environment, build the archive
// on the host from a tar stream and hand it to the transport, retrying like gitlab-runner's
// artifacts-uploader. This is the only retry loop around an upload: the transport tries once.
import type { Readable } from 'node:stream';
import type { JobEnvironment } from '../executor/types.js';
import type { JobArtifact, JobPayload, JobVariable } from '../model/payload.js';
import { ARTIFACT_UPLOAD_RETRY, withRetries, type RetryPolicy } from '../gitlab/retry-policy.js';
import { expandVariables } from '../model/variables.js';
import { compressionLevel } from './compression-level.js';
import { planArtifactArchive, type ArtifactArchive } from './artifact-archive.js';
import { whenMatches } from '../model/when.js';
import { selectFiles } from './select-files.js';
import { helperLine, notice } from './trace-lines.js';
import type { ArtifactTransport, ArtifactUploadResult } from './transport.js';

export interface UploadArtifactsInput {
  env: JobEnvironment;
  job: JobPayload;
  projectDir: string;
  variables: JobVariable[];
  transport: ArtifactTransport;
  jobSucceeded: boolean;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Overrides of gitlab-runner's upload retries (ARTIFACT_UPLOAD_RETRY), e.g. shorter waits in tests. */
  retry?: Partial<RetryPolicy>;
}

export { whenMatches };

/** Uploads every matching artifacts[] entry; ok=false when an upload failed. */
export async function uploadArtifacts(input: UploadArtifactsInput): Promise<{ ok: boolean }> {
  let ok = true;
  for (const artifact of input.job.artifacts) {
    if (!whenMatches(artifact.when, input.jobSucceeded) || !hasSomethingToUpload(artifact)) continue;
    input.log(notice('Uploading artifacts...'));
    try {
      if (!(await uploadOne(artifact, input))) ok = false;
    } catch (error) {
      // Listing failed (environment gone, …): this entry fails, the others still get their try.
      if (input.signal.aborted) throw error;
      input.log(helperLine('fatal', (error as Error).message));
      ok = false;
    }
  }
  return { ok };
}

function hasSomethingToUpload(artifact: JobArtifact): boolean {
  return artifact.paths.length > 0 || (artifact.exclude ?? []).length > 0 || artifact.untracked === true;
}

// One entry: select, plan, upload with retries. False when the upload failed for good.
async function uploadOne(artifact: JobArtifact, input: UploadArtifactsInput): Promise<boolean> {
  const entries = await selectFiles({
    ...input,
    paths: artifact.paths,
    exclude: artifact.exclude,
    untracked: artifact.untracked,
  });
  if (entries.length === 0) {
    // gitlab-runner exits 0 here: nothing to upload is not a job failure.
    input.log(helperLine('error', 'No files to upload'));
    return true;
  }
  let archive: ArtifactArchive;
  try {
    archive = planArtifactArchive({
      env: input.env,
      projectDir: input.projectDir,
      entries,
      name: expandVariables(artifact.name ?? 'artifacts', input.variables),
      format: artifact.artifact_format,
      compressionLevel: compressionLevel('ARTIFACT_COMPRESSION_LEVEL', input.variables, input.log),
    });
  } catch (error) {
    input.log(helperLine('fatal', (error as Error).message));
    return false;
  }
  return uploadWithRetries(artifact, archive, input);
}

async function uploadWithRetries(
  artifact: JobArtifact,
  archive: ArtifactArchive,
  input: UploadArtifactsInput,
): Promise<boolean> {
  const what = `Uploading artifacts as "${artifact.artifact_type}" to coordinator...`;
  const result = await withRetries<ArtifactUploadResult>(
    { ...ARTIFACT_UPLOAD_RETRY, ...input.retry },
    async () => {
      const result = await uploadOnce(artifact, archive, input);
      if (result.outcome !== 'failed') return { value: result, retry: false };
      const fields: Record<string, string | number> = { id: input.job.id };
      if (result.status !== undefined) fields.status = result.status;
      input.log(helperLine('warning', `${what} failed`, fields));
      // 403 and a redirect Tart refuses to follow cannot change on a retry.
      const final = result.status === 403 || result.status === 307;
      return { value: result, retry: !final && !input.signal.aborted, status: result.status };
    },
    {
      signal: input.signal,
      onRetry: ({ value }) =>
        input.log(
          helperLine('warning', 'Retrying...', {
            context: 'artifacts-uploader',
            error: value?.outcome === 'failed' ? value.message : '',
          }),
        ),
    },
  );
  if (result.outcome === 'uploaded') {
    input.log(helperLine('info', `${what} 201 Created`, { id: input.job.id, responseStatus: '201 Created' }));
    return true;
  }
  if (result.outcome === 'too-large') {
    input.log(
      helperLine('error', `${what} too large archive`, {
        id: input.job.id,
        responseStatus: '413 Request Entity Too Large',
      }),
    );
    if (result.message !== '') input.log(helperLine('error', result.message));
    input.log(helperLine('fatal', 'too large'));
    return false;
  }
  input.log(helperLine('fatal', result.status === 403 ? 'permission denied' : result.message));
  return false;
}

// One try. The archive's tar command is stopped whatever happens to the upload.
async function uploadOnce(
  artifact: JobArtifact,
  archive: ArtifactArchive,
  input: UploadArtifactsInput,
): Promise<ArtifactUploadResult> {
  const controller = new AbortController();
  const stop = (): void => controller.abort(input.signal.reason);
  input.signal.addEventListener('abort', stop, { once: true });
  let body: Readable | undefined;
  let bodyError: Error | undefined;
  try {
    body = archive.open(controller.signal);
    body.once('error', (error) => {
      bodyError = error;
    });
    const result = await input.transport.upload({
      jobId: input.job.id,
      jobToken: input.job.token,
      body,
      filename: archive.filename,
      artifactType: artifact.artifact_type,
      artifactFormat: artifact.artifact_format,
      expireIn: artifact.expire_in ?? undefined,
    });
    if (input.signal.aborted) throw input.signal.reason;
    // A body that failed half-way must never count as uploaded.
    if (bodyError !== undefined && result.outcome === 'uploaded')
      return { outcome: 'failed', message: bodyError.message };
    return result;
  } catch (error) {
    if (input.signal.aborted) throw error;
    return { outcome: 'failed', message: (bodyError ?? (error as Error)).message };
  } finally {
    input.signal.removeEventListener('abort', stop);
    controller.abort();
    body?.destroy();
  }
}
