// The one seam through which every runner API request goes: base URL, the headers gitlab-runner
// always sends (§0.4), TLS files, named timeouts (§0.6, §9.5), retries as data, and a hook that
// counts requests by endpoint template. Tokens travel only in headers/bodies, never in errors.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TartError } from '../errors.js';
import { apiBaseUrl, endpointUrl, fillEndpoint } from './api-url.js';
import { DEFAULT_RETRY_POLICY, isRetryableStatus, withRetries, type RetryPolicy } from './retry-policy.js';
import type { ApiResponse } from './api-response.js';
import { runnerUserAgent } from './runner-info.js';

export type { ApiResponse } from './api-response.js';

/** `tls-ca-file`, `tls-cert-file`, `tls-key-file` of a [[runners]] entry; read on every request. */
export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface HttpTimeouts {
  /** TCP connect plus TLS handshake. gitlab-runner: 30 s dial (+10 s TLS). */
  connectMs: number;
  /** From sending the request until response headers arrive. Must outlast long polls (~50 s): 10 min. */
  responseHeaderMs: number;
  /** A whole buffered exchange including the body. gitlab-runner: 60 min. */
  totalMs: number;
  /** Socket inactivity while streaming a body in or out. */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = Object.freeze({
  connectMs: 30_000,
  responseHeaderMs: 10 * 60_000,
  totalMs: 60 * 60_000,
  idleMs: 10 * 60_000,
});

/** One HTTP exchange as the daemon's metrics see it. `status` is 0 when no response arrived. */
export interface RequestEvent {
  /** The endpoint template, e.g. `/jobs/:id/trace` — never a URL with ids or tokens. */
  endpoint: string;
  method: string;
  status: number;
  durationMs: number;
}

/** How to reach one GitLab instance as one [[runners]] entry. */
export interface GitLabConnection {
  /** The configured GitLab URL (`url` in config.toml). */
  url: string;
  tls?: TlsFiles;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  onRequest?: (event: RequestEvent) => void;
  /** Tart's version, shown in the User-Agent. */
  tartVersion?: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiCall {
  method: HttpMethod;
  /** Template relative to `/api/v4`, e.g. `/jobs/:id`. */
  endpoint: string;
  params?: Record<string, string | number>;
  query?: Record<string, string | undefined>;
  /** Extra headers (RUNNER-TOKEN, JOB-TOKEN, Content-Range…). Token headers are redacted from errors. */
  headers?: Record<string, string>;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** A raw body, with `contentType`. */
  body?: Buffer;
  contentType?: string;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  timeouts?: Partial<HttpTimeouts>;
  /** Refuse response bodies larger than this (default 64 MiB). */
  maxResponseBytes?: number;
}

/** One low-level exchange: a fully built request whose response is returned unread (streaming). */
export interface Exchange {
  url: URL;
  method: HttpMethod;
  headers: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  tls?: TlsFiles;
  timeouts: HttpTimeouts;
  signal?: AbortSignal;
  /** Used in error messages instead of the URL. */
  label: string;
}

/** A buffered runner API call with gitlab-runner's retry behaviour. Any status is returned; only transport failures throw. */
export async function callApi(connection: GitLabConnection, call: ApiCall): Promise<ApiResponse> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...connection.retry, ...call.retry };
  const timeouts = resolveTimeouts(connection, call.timeouts);
  const url = endpointUrl(apiBaseUrl(connection.url), fillEndpoint(call.endpoint, call.params), call.query);
  const label = `${call.method} ${call.endpoint}`;
  const body = call.json === undefined ? call.body : Buffer.from(JSON.stringify(call.json));
  const contentType = call.json === undefined ? call.contentType : 'application/json';
  return withRetries(
    policy,
    async () => {
      const started = performance.now();
      const headers = standardHeaders(connection, {
        ...call.headers,
        ...(contentType ? { 'Content-Type': contentType } : {}),
      });
      if (body) headers['Content-Length'] = String(body.length);
      let response: ApiResponse;
      try {
        response = await bufferedExchange(
          {
            url,
            method: call.method,
            headers,
            body,
            tls: connection.tls,
            timeouts,
            signal: call.signal,
            label,
          },
          call.maxResponseBytes ?? 64 * 1024 * 1024,
        );
      } catch (error) {
        report(connection, call, 0, started);
        throw error;
      }
      report(connection, call, response.status, started);
      const retry = isRetryableStatus(policy, response.status);
      return { value: response, retry, status: response.status, headers: response.headers };
    },
    { signal: call.signal, retryError: (error) => policy.retryNetworkErrors && !isFinal(error) },
  );
}

/** The headers gitlab-runner sends on every request, plus `extra`. */
export function standardHeaders(
  connection: Pick<GitLabConnection, 'tartVersion'>,
  extra: Record<string, string> = {},
): OutgoingHttpHeaders {
  return {
    'User-Agent': runnerUserAgent(connection.tartVersion),
    'X-Request-Id': randomUUID().replaceAll('-', ''),
    Accept: 'application/json',
    ...extra,
  };
}

export function resolveTimeouts(
  connection: GitLabConnection,
  override?: Partial<HttpTimeouts>,
): HttpTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...connection.timeouts, ...override };
}

/** Sends one request and resolves with the unread response once headers arrive. */
export async function exchange(request: Exchange): Promise<IncomingMessage> {
  const tlsMaterial = request.url.protocol === 'https:' ? await readTlsFiles(request.tls) : {};
  if (request.signal?.aborted) throw toTransportError(request.signal.reason, request);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const transport = request.url.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(headerTimer);
      reject(toTransportError(error, request));
    };
    const req = transport.request(request.url, {
      method: request.method,
      headers: request.headers,
      signal: request.signal,
      minVersion: 'TLSv1.2',
      ...tlsMaterial,
    });
    // Like Go's ResponseHeaderTimeout: counted from the end of the request body, so long uploads are not cut.
    let headerTimer: NodeJS.Timeout | undefined;
    req.on('finish', () => {
      if (settled) return;
      headerTimer = setTimeout(
        () =>
          req.destroy(
            new TartError(
              'GITLAB_TIMEOUT',
              `${request.label}: no response within ${request.timeouts.responseHeaderMs} ms`,
            ),
          ),
        request.timeouts.responseHeaderMs,
      );
    });
    req.setTimeout(request.timeouts.idleMs, () =>
      req.destroy(
        new TartError(
          'GITLAB_TIMEOUT',
          `${request.label}: connection idle for ${request.timeouts.idleMs} ms`,
        ),
      ),
    );
    req.on('socket', (socket) => guardConnect(socket, req, request));
    req.on('error', fail);
    req.on('response', (response) => {
      if (settled) return response.destroy();
      settled = true;
      clearTimeout(headerTimer);
      resolve(response);
    });
    sendBody(req, request.body);
  });
}

/** Reads a whole response body, refusing more than `limit` bytes. */
export async function readBody(response: IncomingMessage, limit: number, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        throw new TartError('GITLAB_BAD_RESPONSE', `${label}: response body larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw error instanceof TartError
      ? error
      : new TartError('GITLAB_NETWORK_ERROR', `${label}: the response body was cut off`, { cause: error });
  }
  return Buffer.concat(chunks);
}

// One attempt of a buffered call, bounded by the total timeout.
async function bufferedExchange(request: Exchange, limit: number): Promise<ApiResponse> {
  const totalTimer = new AbortController();
  const timer = setTimeout(
    () =>
      totalTimer.abort(
        new TartError(
          'GITLAB_TIMEOUT',
          `${request.label}: no complete response within ${request.timeouts.totalMs} ms`,
        ),
      ),
    request.timeouts.totalMs,
  );
  const signal = request.signal ? AbortSignal.any([request.signal, totalTimer.signal]) : totalTimer.signal;
  try {
    const response = await exchange({ ...request, signal });
    const body = await readBody(response, limit, request.label).catch((error: unknown) => {
      throw signal.aborted ? toTransportError(signal.reason, request) : error;
    });
    return { status: response.statusCode ?? 0, headers: response.headers, body };
  } finally {
    clearTimeout(timer);
  }
}

// A fresh socket must connect (and finish TLS) within connectMs; a reused keep-alive socket already has.
function guardConnect(socket: import('node:net').Socket, req: http.ClientRequest, request: Exchange): void {
  if (!socket.connecting) return;
  const timer = setTimeout(
    () =>
      req.destroy(
        new TartError(
          'GITLAB_TIMEOUT',
          `${request.label}: could not connect within ${request.timeouts.connectMs} ms`,
        ),
      ),
    request.timeouts.connectMs,
  );
  socket.once(request.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
}

// Buffers are sent with a length; streams go out chunked. A stream failure destroys the request.
function sendBody(req: http.ClientRequest, body: Buffer | Readable | undefined): void {
  if (body === undefined) return void req.end();
  if (Buffer.isBuffer(body)) return void req.end(body);
  pipeline(body, req).catch((error: unknown) =>
    req.destroy(error instanceof Error ? error : new Error(String(error))),
  );
}

async function readTlsFiles(
  tls: TlsFiles | undefined,
): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  if (!tls) return {};
  const read = async (path: string | undefined): Promise<Buffer | undefined> => {
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch (cause) {
      throw new TartError('GITLAB_TLS_FILE', `Cannot read TLS file ${path}`, { cause });
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.caFile), read(tls.certFile), read(tls.keyFile)]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function toTransportError(error: unknown, request: Exchange): TartError {
  if (error instanceof TartError) return error;
  if (request.signal?.aborted) {
    const reason: unknown = request.signal.reason;
    if (reason instanceof TartError) return reason;
    return new TartError('ABORTED', `${request.label}: aborted`, { cause: reason });
  }
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new TartError('GITLAB_NETWORK_ERROR', `${request.label}: ${text}`, { cause: error });
}

// Errors that another attempt cannot fix.
function isFinal(error: unknown): boolean {
  return error instanceof TartError && (error.code === 'ABORTED' || error.code === 'GITLAB_TLS_FILE');
}

function report(connection: GitLabConnection, call: ApiCall, status: number, started: number): void {
  reportRequest(connection, {
    endpoint: call.endpoint,
    method: call.method,
    status,
    durationMs: performance.now() - started,
  });
}

/** Tells the connection's `onRequest` hook about one exchange; a failing hook never breaks a request. */
export function reportRequest(connection: Pick<GitLabConnection, 'onRequest'>, event: RequestEvent): void {
  try {
    connection.onRequest?.(event);
  } catch {
    // Metrics are best effort.
  }
}
