// Where artifact archives go and come from (the port; data and types only). The GitLab client
// implements it against the runner API (protocol reference §6); `tart exec` with a local directory.
import type { Readable } from 'node:stream';
import type { JobDependency } from './payload.js';

export interface ArtifactUpload {
  jobId: number;
  jobToken: string;
  /** The archive bytes, streamed (never fully buffered). */
  body: Readable;
  /** File name sent in the multipart `file` part, e.g. "artifacts.zip", "junit.xml.gz". */
  filename: string;
  artifactType: string;
  artifactFormat: string;
  expireIn?: string;
}

export type ArtifactUploadResult =
  | { outcome: 'uploaded' }
  | { outcome: 'too-large'; message: string }
  | { outcome: 'failed'; message: string; status?: number };

export interface ArtifactTransport {
  upload(upload: ArtifactUpload): Promise<ArtifactUploadResult>;
  /** The zip archive of a dependency, streamed. Rejects with a TartError on HTTP failure. */
  download(options: { dependency: JobDependency; signal?: AbortSignal }): Promise<Readable>;
}
