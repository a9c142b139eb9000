// ArtifactTransport over a local directory: what GitLab stores for a pipeline, tart exec keeps
// in `<dir>/<job id>/`. Dependencies download the `archive` entry of the jobs they name.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactTransport, ArtifactUpload, ArtifactUploadResult } from '../artifacts/transport.js';
import { TartError } from '../errors.js';
import type { JobDependency } from '../model/payload.js';
import { DotenvReportError, readDotenvReport } from './dotenv-report.js';

export interface StoredArtifact {
  jobId: number;
  artifactType: string;
  filename: string;
  path: string;
  size: number;
}

export class LocalArtifactTransport implements ArtifactTransport {
  readonly #dir: string;
  readonly #stored: StoredArtifact[] = [];

  constructor(options: { dir: string }) {
    this.#dir = options.dir;
  }

  async upload(upload: ArtifactUpload): Promise<ArtifactUploadResult> {
    const directory = join(this.#dir, String(upload.jobId), upload.artifactType);
    const path = join(directory, basename(upload.filename) || 'artifacts');
    try {
      await mkdir(directory, { recursive: true });
      await pipeline(upload.body, createWriteStream(path, { mode: 0o600 }));
      const { size } = await stat(path);
      // GitLab parses a dotenv report as it takes the upload, and answers 400 when it refuses it.
      if (upload.artifactType === 'dotenv') {
        const refused = await readDotenvReport(path).then(
          () => undefined,
          (error: unknown) => (error instanceof DotenvReportError ? error.message : `cannot read the report: ${(error as Error).message}`),
        );
        if (refused !== undefined) {
          await rm(path, { force: true });
          return { outcome: 'failed', message: `HTTP 400: ${refused}`, status: 400 };
        }
      }
      this.#stored.push({
        jobId: upload.jobId,
        artifactType: upload.artifactType,
        filename: basename(path),
        path,
        size,
      });
      return { outcome: 'uploaded' };
    } catch (error) {
      upload.body.destroy();
      return { outcome: 'failed', message: `could not store artifact: ${(error as Error).message}` };
    }
  }

  async download(options: { dependency: JobDependency; signal?: AbortSignal }): Promise<Readable> {
    const archive = this.archiveOf(options.dependency.id);
    if (!archive)
      throw new TartError(
        'ARTIFACT_NOT_FOUND',
        `job ${options.dependency.name} (${options.dependency.id}) has no artifacts archive`,
      );
    return createReadStream(archive.path, { signal: options.signal });
  }

  /** The zip archive a job uploaded (what `dependencies[].artifacts_file` describes), if any. */
  archiveOf(jobId: number): StoredArtifact | undefined {
    return this.#stored.findLast(
      (artifact) => artifact.jobId === jobId && artifact.artifactType === 'archive',
    );
  }

  /** The dotenv report a job uploaded, if any. */
  dotenvOf(jobId: number): StoredArtifact | undefined {
    return this.#stored.findLast(
      (artifact) => artifact.jobId === jobId && artifact.artifactType === 'dotenv',
    );
  }

  /** Everything stored, in upload order (reports included). */
  get stored(): readonly StoredArtifact[] {
    return this.#stored;
  }
}
