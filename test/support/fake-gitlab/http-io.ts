// Reading requests and describing answers. Routes return a `Reply` instead of writing to the
// response, so the dispatcher can apply faults (drop after handling, delays) in one place.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** A JSON answer; GitLab's runner API always labels JSON bodies (protocol §0.4). */
export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** Grape's error body for a forbidden/failed request: `{"message": "403 Forbidden - why"}` (§0.5). */
export function messageReply(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return jsonReply(status, { message }, headers);
}

/** Grape's error body for a missing required parameter: `{"error": "token is missing"}` (§0.5). */
export function missingParamReply(name: string): Reply {
  return jsonReply(400, { error: `${name} is missing` });
}

export function emptyReply(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers };
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const body = reply.body === undefined ? undefined : Buffer.from(reply.body);
  const headers: Record<string, string | number> = { ...reply.headers };
  if (body !== undefined) headers['Content-Length'] = body.length;
  res.writeHead(reply.status, headers);
  res.end(body);
}

export interface ReadBody {
  bytes: Buffer;
  /** True when the body exceeded the limit; `bytes` then holds only what fit. */
  tooLarge: boolean;
  size: number;
}

/** Reads the whole body (chunked or not), keeping at most `limit` bytes but draining the rest. */
export async function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return { bytes: Buffer.concat(chunks), tooLarge: size > limit, size };
}

export type JsonBody = Record<string, unknown>;

/** Parses a JSON object body; undefined when it is not a JSON object. */
export function parseJsonObject(bytes: Buffer): JsonBody | undefined {
  if (bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonBody)
      : undefined;
  } catch {
    return undefined;
  }
}

export function stringField(body: JsonBody | undefined, name: string): string | undefined {
  const value = body?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** Replaces credentials in a request path so logs never carry them. */
export function redactPath(path: string): string {
  return path.replace(/([?&](?:token|private_token|job_token)=)[^&]*/gi, '$1[REDACTED]');
}
