// An ArtifactTransport double backed by a temp dir: uploads are stored as
// `<dir>/<job id>/<filename>`, and a dependency's archive is served from
// `<dir>/<dependency id>/<artifacts_file.filename>`. Tests read `uploads` and can make uploads fail.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  ArtifactTransport,
  ArtifactUpload,
  ArtifactUploadResult,
} from '../../src/artifacts/transport.js';
import { TartError } from '../../src/errors.js';
import type { JobDependency } from '../../src/model/payload.js';

export interface StoredUpload {
  jobId: number;
  filename: string;
  artifactType: string;
  artifactFormat: string;
  expireIn?: string;
  /** Where the uploaded bytes were written. */
  path: string;
  size: number;
}

export interface LocalArtifacts extends ArtifactTransport {
  readonly dir: string;
  readonly uploads: StoredUpload[];
  /** The result every later upload gets instead of being stored (undefined: store). */
  failUploadsWith: ArtifactUploadResult | undefined;
  /** Where a dependency's archive must be placed to be downloadable. */
  pathFor(jobId: number, filename: string): string;
  close(): Promise<void>;
}

export async function createLocalArtifacts(): Promise<LocalArtifacts> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-artifacts-'));
  const uploads: StoredUpload[] = [];
  const pathFor = (jobId: number, filename: string): string => join(dir, String(jobId), filename);
  const transport: LocalArtifacts = {
    dir,
    uploads,
    failUploadsWith: undefined,
    pathFor,
    async upload(upload: ArtifactUpload): Promise<ArtifactUploadResult> {
      if (transport.failUploadsWith !== undefined) {
        upload.body.resume();
        return transport.failUploadsWith;
      }
      const path = pathFor(upload.jobId, upload.filename);
      await mkdir(join(dir, String(upload.jobId)), { recursive: true });
      await pipeline(upload.body, createWriteStream(path, { mode: 0o600 }));
      const { size } = await stat(path);
      uploads.push({
        jobId: upload.jobId,
        filename: upload.filename,
        artifactType: upload.artifactType,
        artifactFormat: upload.artifactFormat,
        expireIn: upload.expireIn,
        path,
        size,
      });
      return { outcome: 'uploaded' };
    },
    async download(options: { dependency: JobDependency; signal?: AbortSignal }): Promise<Readable> {
      const filename = options.dependency.artifacts_file?.filename ?? 'artifacts.zip';
      const path = pathFor(options.dependency.id, filename);
      try {
        await stat(path);
      } catch (error) {
        throw new TartError('ARTIFACT_DOWNLOAD_FAILED', `no artifacts for job ${options.dependency.id}`, {
          cause: error,
        });
      }
      return createReadStream(path, { signal: options.signal });
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
  return transport;
}
