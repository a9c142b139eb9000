// Artifacts over the runner API (protocol reference §6): one streamed multipart upload attempt
// per call (the upload stage owns the retries, as gitlab-runner's uploader does), and dependency
// downloads that follow object-storage redirects and retry as gitlab-runner's downloader.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { TartError } from '../errors.js';
import { maskSecrets } from '../masking/secret-masker.js';
import type { ArtifactTransport, ArtifactUpload, ArtifactUploadResult } from '../model/artifacts.js';
import type { JobDependency } from '../model/payload.js';
import { apiBaseUrl, endpointUrl, fillEndpoint } from './api-url.js';
import { headerValue, serverMessage } from './api-response.js';
import {
  exchange,
  readBody,
  reportRequest,
  resolveTimeouts,
  standardHeaders,
  type GitLabConnection,
} from './http.js';
import { ARTIFACT_DOWNLOAD_RETRY, withRetries, type RetryPolicy } from './retry-policy.js';
import { credentialsMayGo, redirectRefusedMessage } from './redirect-policy.js';
import { UploadSpool } from './upload-spool.js';

export interface ArtifactRetryRules {
  /** Download attempts (gitlab-runner: 1 + 2 retries). */
  downloadAttempts: number;
  /** Wait between download attempts. */
  delayMs: number;
  /** Redirects followed per request. */
  maxRedirects: number;
}

export const DEFAULT_ARTIFACT_RETRY: ArtifactRetryRules = Object.freeze({
  downloadAttempts: ARTIFACT_DOWNLOAD_RETRY.maxAttempts,
  delayMs: ARTIFACT_DOWNLOAD_RETRY.initialDelayMs,
  maxRedirects: 10,
});

export interface GitLabArtifactTransportOptions extends GitLabConnection {
  retryRules?: Partial<ArtifactRetryRules>;
  /** Where upload bodies are recorded to be resent after a redirect (default the OS temp dir). */
  tmpDir?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class GitLabArtifactTransport implements ArtifactTransport {
  #options: GitLabArtifactTransportOptions;
  #rules: ArtifactRetryRules;

  constructor(options: GitLabArtifactTransportOptions) {
    this.#options = options;
    this.#rules = { ...DEFAULT_ARTIFACT_RETRY, ...options.retryRules };
  }

  /** POST /jobs/:id/artifacts: one multipart part named `file`, chunked, query params from the payload. */
  async upload(upload: ArtifactUpload): Promise<ArtifactUploadResult> {
    const spool = await UploadSpool.create(upload.body, this.#options.tmpDir);
    try {
      return await this.#uploadFollowingRedirects(upload, spool);
    } finally {
      await spool.dispose();
    }
  }

  /** GET /jobs/:id/artifacts with the dependency's token; rejects with ARTIFACT_FORBIDDEN / ARTIFACT_NOT_FOUND / ARTIFACT_DOWNLOAD_FAILED. */
  async download(options: { dependency: JobDependency; signal?: AbortSignal }): Promise<Readable> {
    const policy: RetryPolicy = {
      ...ARTIFACT_DOWNLOAD_RETRY,
      maxAttempts: this.#rules.downloadAttempts,
      initialDelayMs: this.#rules.delayMs,
      maxDelayMs: this.#rules.delayMs,
    };
    return withRetries(
      policy,
      async (attempt) => ({
        value: await this.#downloadOnce(options.dependency, attempt === 1, options.signal),
        retry: false,
      }),
      {
        signal: options.signal,
        retryError: (error) =>
          error instanceof TartError &&
          !['ARTIFACT_FORBIDDEN', 'ARTIFACT_NOT_FOUND', 'ABORTED'].includes(error.code),
      },
    );
  }

  // One upload attempt; a 307 resends the recorded body to the new host (not a retry).
  async #uploadFollowingRedirects(upload: ArtifactUpload, spool: UploadSpool): Promise<ArtifactUploadResult> {
    let base = apiBaseUrl(this.#options.url);
    for (let redirects = 0; ; redirects++) {
      let body: Readable;
      try {
        body = redirects === 0 ? spool.first() : await spool.replay();
      } catch (error) {
        return readFailure(error);
      }
      const result = await this.#uploadOnce(base, upload, body);
      if (result.kind === 'done') return result.result;
      if (result.kind === 'moved') {
        if (!credentialsMayGo(result.location, this.#options.url))
          return {
            outcome: 'failed',
            message: redirectRefusedMessage(307, result.location, this.#options.url),
            status: 307,
          };
        if (redirects + 1 > this.#rules.maxRedirects)
          return { outcome: 'failed', message: 'Too many redirects', status: 307 };
        base = new URL(base.pathname, result.location.origin);
        continue;
      }
      if (spool.sourceError) return readFailure(spool.sourceError);
      return {
        outcome: 'failed',
        message: result.message,
        ...(result.status ? { status: result.status } : {}),
      };
    }
  }

  async #uploadOnce(
    base: URL,
    upload: ArtifactUpload,
    file: Readable,
  ): Promise<
    | { kind: 'done'; result: ArtifactUploadResult }
    | { kind: 'moved'; location: URL }
    | { kind: 'failed'; message: string; status?: number }
  > {
    const endpoint = '/jobs/:id/artifacts';
    const url = endpointUrl(base, fillEndpoint(endpoint, { id: upload.jobId }), {
      artifact_format: upload.artifactFormat,
      artifact_type: upload.artifactType,
      expire_in: upload.expireIn,
    });
    const boundary = `tart${randomBytes(16).toString('hex')}`;
    const headers = standardHeaders(this.#options, {
      'JOB-TOKEN': upload.jobToken,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    });
    const started = performance.now();
    const secrets = [upload.jobToken];
    let response: IncomingMessage;
    let text: Buffer;
    try {
      response = await exchange({
        url,
        method: 'POST',
        headers,
        body: multipartBody(boundary, upload.filename, file),
        tls: credentialsMayGo(url, this.#options.url) ? this.#options.tls : undefined,
        timeouts: resolveTimeouts(this.#options),
        label: `POST ${endpoint}`,
      });
      text = await readBody(response, 1024 * 1024, `POST ${endpoint}`);
    } catch (error) {
      reportRequest(this.#options, {
        endpoint,
        method: 'POST',
        status: 0,
        durationMs: performance.now() - started,
      });
      return {
        kind: 'failed',
        message: maskSecrets(error instanceof Error ? error.message : String(error), secrets),
      };
    }
    const status = response.statusCode ?? 0;
    reportRequest(this.#options, {
      endpoint,
      method: 'POST',
      status,
      durationMs: performance.now() - started,
    });
    const message = serverMessage({ status, headers: response.headers, body: text }, secrets);
    if (status === 200 || status === 201) return { kind: 'done', result: { outcome: 'uploaded' } };
    if (status === 413) return { kind: 'done', result: { outcome: 'too-large', message } };
    if (status === 403)
      return { kind: 'done', result: { outcome: 'failed', message: `Forbidden: ${message}`, status } };
    const location = headerValue(response.headers, 'location');
    if (status === 307 && location) return { kind: 'moved', location: new URL(location, url) };
    return { kind: 'failed', message: `HTTP ${status}: ${message}`, status };
  }

  async #downloadOnce(
    dependency: JobDependency,
    directDownload: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Readable> {
    const endpoint = '/jobs/:id/artifacts';
    const apiUrl = endpointUrl(apiBaseUrl(this.#options.url), fillEndpoint(endpoint, { id: dependency.id }), {
      direct_download: directDownload ? 'true' : undefined,
    });
    let url = apiUrl;
    for (let redirects = 0; ; redirects++) {
      const trusted = credentialsMayGo(url, this.#options.url);
      // The job token and the GitLab CA only go to GitLab itself, never to the redirect target.
      const headers: OutgoingHttpHeaders = standardHeaders(
        this.#options,
        trusted ? { 'JOB-TOKEN': dependency.token } : {},
      );
      delete headers.Accept;
      const started = performance.now();
      const label = trusted ? `GET ${endpoint}` : 'GET artifact redirect';
      let response: IncomingMessage;
      try {
        response = await exchange({
          url,
          method: 'GET',
          headers,
          tls: trusted ? this.#options.tls : undefined,
          timeouts: resolveTimeouts(this.#options),
          signal,
          label,
        });
      } catch (error) {
        reportRequest(this.#options, {
          endpoint: trusted ? endpoint : `${endpoint} (redirect)`,
          method: 'GET',
          status: 0,
          durationMs: performance.now() - started,
        });
        if (error instanceof TartError && error.code === 'ABORTED') throw error;
        throw new TartError(
          'ARTIFACT_DOWNLOAD_FAILED',
          `Downloading artifacts of job ${dependency.id} failed`,
          { cause: error },
        );
      }
      const status = response.statusCode ?? 0;
      reportRequest(this.#options, {
        endpoint: trusted ? endpoint : `${endpoint} (redirect)`,
        method: 'GET',
        status,
        durationMs: performance.now() - started,
      });
      if (status === 200) return response;
      response.resume();
      const location = headerValue(response.headers, 'location');
      if (REDIRECTS.has(status) && location && redirects < this.#rules.maxRedirects) {
        url = new URL(location, url);
        continue;
      }
      const details = { details: { status, jobId: dependency.id } };
      if (status === 401 || status === 403)
        throw new TartError(
          'ARTIFACT_FORBIDDEN',
          `Not allowed to download artifacts of job ${dependency.id} (HTTP ${status})`,
          details,
        );
      if (status === 404)
        throw new TartError(
          'ARTIFACT_NOT_FOUND',
          `No artifacts for job ${dependency.id} (HTTP 404)`,
          details,
        );
      throw new TartError(
        'ARTIFACT_DOWNLOAD_FAILED',
        `Downloading artifacts of job ${dependency.id} failed with HTTP ${status}`,
        details,
      );
    }
  }
}

/** The multipart/form-data body: one part named `file` wrapping the streamed archive. */
export function multipartBody(boundary: string, filename: string, file: Readable): Readable {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${escapeQuotes(filename)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of file as AsyncIterable<Buffer>) yield chunk;
      yield tail;
    })(),
    { objectMode: false },
  );
}

// As Go's mime/multipart: backslash and double quote are escaped; line breaks cannot appear in a header.
function escapeQuotes(value: string): string {
  return value
    .replace(/[\r\n]/g, '')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"');
}

function readFailure(error: unknown): ArtifactUploadResult {
  return {
    outcome: 'failed',
    message: `Reading the artifact failed: ${error instanceof Error ? error.message : String(error)}`,
  };
}

