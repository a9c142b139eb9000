// Reading runner API responses: headers, JSON bodies, the server's error text (§0.4, §0.5),
// and errors that carry the status but never a token.
import type { IncomingHttpHeaders } from 'node:http';
import { TartError } from '../errors.js';
import { maskSecrets } from '../masking/secret-masker.js';

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The first value of a response header, by lower-case name. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** True when the response declares a JSON body (gitlab-runner refuses to decode anything else). */
export function isJsonResponse(response: ApiResponse): boolean {
  const type = headerValue(response.headers, 'content-type') ?? '';
  return /^application\/json\s*(;|$)/i.test(type.trim());
}

/** Decodes a JSON response body or throws GITLAB_BAD_RESPONSE. */
export function decodeJson(response: ApiResponse, label: string): unknown {
  if (!isJsonResponse(response)) {
    throw new TartError(
      'GITLAB_BAD_RESPONSE',
      `${label}: expected a JSON response, got ${headerValue(response.headers, 'content-type') ?? 'no content type'}`,
      {
        details: { status: response.status },
      },
    );
  }
  try {
    return JSON.parse(response.body.toString('utf8')) as unknown;
  } catch (cause) {
    throw new TartError('GITLAB_BAD_RESPONSE', `${label}: the response body is not valid JSON`, {
      cause,
      details: { status: response.status },
    });
  }
}

/** The server's `message`/`error` text (§0.5), shortened, with every given secret replaced by `[MASKED]`. */
export function serverMessage(response: ApiResponse, secrets: readonly string[] = []): string {
  let text = response.body.toString('utf8').slice(0, 2000);
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = parsed.message ?? parsed.error;
    if (message !== undefined) text = typeof message === 'string' ? message : JSON.stringify(message);
  } catch {
    // Not JSON: keep the raw text.
  }
  return maskSecrets(text.slice(0, 300), secrets);
}

/** A failed HTTP status as a TartError with the status in `details`. */
export function httpError(
  code: string,
  label: string,
  response: ApiResponse,
  secrets: readonly string[],
): TartError {
  return new TartError(
    code,
    `${label} failed with HTTP ${response.status}: ${serverMessage(response, secrets)}`,
    {
      details: { status: response.status, jobStatus: headerValue(response.headers, 'job-status') },
    },
  );
}
