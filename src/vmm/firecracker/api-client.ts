// The one seam through which Tart speaks Firecracker's HTTP/1.1 API over its unix socket.
// Firecracker's micro_http server reads the body length only from Content-Length (a chunked body
// is never decoded), so every request is sent with an explicit Content-Length (firecracker.md §1.1).
import { request as httpRequest } from 'node:http';
import { TartError } from '../../errors.js';

export type ApiMethod = 'GET' | 'PUT' | 'PATCH';

/** One API call: what the boot plan produces and what the double records. */
export interface ApiRequest {
  method: ApiMethod;
  path: string;
  body?: unknown;
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON body, or undefined for 204 / empty bodies. */
  body: unknown;
}

export interface ApiClientOptions {
  socketPath: string;
  /** Per-request deadline; the Go SDK uses 500 ms, we allow more for loaded CI hosts. */
  requestTimeoutMs?: number;
}

export const DEFAULT_API_REQUEST_TIMEOUT_MS = 2_000;

/** Firecracker's default HTTP_MAX_PAYLOAD_SIZE; larger bodies are refused by the server. */
export const MAX_API_BODY_BYTES = 51_200;

/** A client bound to one Firecracker process's API socket. */
export class FirecrackerApiClient {
  readonly socketPath: string;
  readonly requestTimeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.socketPath = options.socketPath;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_API_REQUEST_TIMEOUT_MS;
  }

  /** Sends one request; resolves on 2xx, throws FIRECRACKER_API_ERROR with the fault message otherwise. */
  async call(request: ApiRequest): Promise<ApiResponse> {
    const response = await this.send(request);
    if (response.status >= 200 && response.status < 300) return response;
    throw apiError(request, response);
  }

  /** Sends one request and returns whatever status came back (transport failures still throw). */
  send(request: ApiRequest): Promise<ApiResponse> {
    const payload =
      request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
    if (payload !== undefined && payload.length > MAX_API_BODY_BYTES) {
      return Promise.reject(
        new TartError(
          'FIRECRACKER_API_BODY_TOO_LARGE',
          `${request.method} ${request.path}: body over ${MAX_API_BODY_BYTES} bytes`,
          {
            details: { method: request.method, path: request.path, bytes: payload.length },
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        socketPath: this.socketPath,
        method: request.method,
        path: request.path,
        headers: requestHeaders(payload),
        timeout: this.requestTimeoutMs,
      });
      req.on('timeout', () => {
        req.destroy(
          new TartError(
            'FIRECRACKER_API_TIMEOUT',
            `${request.method} ${request.path}: no answer within ${this.requestTimeoutMs} ms`,
            {
              details: { method: request.method, path: request.path, timeoutMs: this.requestTimeoutMs },
            },
          ),
        );
      });
      req.on('error', (cause) => reject(transportError(request, cause)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (cause) => reject(transportError(request, cause)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) }));
      });
      // One end() call with the whole body: together with Content-Length this never goes chunked.
      req.end(payload);
    });
  }
}

/** Headers Firecracker understands; Content-Length is always present (0 for bodiless requests). */
function requestHeaders(payload: Buffer | undefined): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    Accept: 'application/json',
    'Content-Length': payload?.length ?? 0,
  };
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  return headers;
}

/** JSON when it parses, the raw text otherwise, undefined when empty. */
function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The error for a non-2xx answer, carrying Firecracker's `fault_message`. */
function apiError(request: ApiRequest, response: ApiResponse): TartError {
  const faultMessage = faultMessageOf(response.body);
  return new TartError(
    'FIRECRACKER_API_ERROR',
    `Firecracker refused ${request.method} ${request.path} (${response.status}): ${faultMessage}`,
    { details: { method: request.method, path: request.path, status: response.status, faultMessage } },
  );
}

/** Firecracker answers errors as {"fault_message": "..."}; anything else is shown as text. */
export function faultMessageOf(body: unknown): string {
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { fault_message?: unknown }).fault_message === 'string'
  ) {
    return (body as { fault_message: string }).fault_message;
  }
  if (body === undefined) return '(empty body)';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Socket-level failures (no socket, connection reset, timeout) keep their own codes. */
function transportError(request: ApiRequest, cause: unknown): TartError {
  if (cause instanceof TartError) return cause;
  const errno = (cause as NodeJS.ErrnoException).code;
  return new TartError(
    'FIRECRACKER_API_UNREACHABLE',
    `${request.method} ${request.path}: ${(cause as Error).message}`,
    {
      cause,
      details: { method: request.method, path: request.path, errno },
    },
  );
}
