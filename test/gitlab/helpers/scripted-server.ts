// A loopback HTTP server whose answers are scripted by request count (undici-style), recording every request.
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Answer = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Answers request N with `answers[N]` (the last answer repeats). */
export async function startScriptedServer(
  answers: Answer[] | Answer,
  server = http.createServer(),
): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const parsed = new URL(req.url ?? '/', 'http://localhost');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const index = requests.push(recorded) - 1;
      const answer = Array.isArray(answers)
        ? (answers[Math.min(index, answers.length - 1)] as Answer)
        : answers;
      Promise.resolve(answer(recorded, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const protocol = 'setSecureContext' in server ? 'https' : 'http';
  return {
    url: `${protocol}://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An answer with a status, headers and an optional JSON or raw body. */
export function reply(
  status: number,
  options: { headers?: Record<string, string>; json?: unknown; body?: string | Buffer } = {},
): Answer {
  return (_request, response) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] ??= 'application/json';
    }
    response.writeHead(status, headers);
    response.end(body);
  };
}

/** Closes the connection without any response. */
export const dropConnection: Answer = (_request, response) => {
  response.socket?.destroy();
};

/** Never answers (for timeout and abort tests). */
export const hang: Answer = () => undefined;

export function json(request: RecordedRequest): Record<string, unknown> {
  return JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
}
