// An in-memory ArtifactTransport: records every upload (body read to the end, like a server
// would) and answers with scripted outcomes by call number; serves downloads from buffers.
import { Readable } from 'node:stream';
import type {
  ArtifactTransport,
  ArtifactUpload,
  ArtifactUploadResult,
} from '../../src/artifacts/transport.js';
import { TartError } from '../../src/errors.js';

export interface RecordedUpload extends Omit<ArtifactUpload, 'body'> {
  bytes: Buffer;
}

export class ArtifactTransportDouble implements ArtifactTransport {
  readonly uploads: RecordedUpload[] = [];
  /** Outcome per upload call (by index); beyond the list: uploaded. */
  outcomes: ArtifactUploadResult[] = [];
  /** Dependency id → archive bytes. */
  readonly archives = new Map<number, Buffer>();

  async upload(upload: ArtifactUpload): Promise<ArtifactUploadResult> {
    const { body, ...fields } = upload;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(chunk as Buffer);
    } catch (error) {
      return { outcome: 'failed', message: `body failed: ${(error as Error).message}` };
    }
    this.uploads.push({ ...fields, bytes: Buffer.concat(chunks) });
    return this.outcomes[this.uploads.length - 1] ?? { outcome: 'uploaded' };
  }

  async download(options: { dependency: { id: number } }): Promise<Readable> {
    const archive = this.archives.get(options.dependency.id);
    if (archive === undefined) throw new TartError('ARTIFACT_DOWNLOAD_HTTP', '404 Not Found');
    return Readable.from([archive]);
  }
}
