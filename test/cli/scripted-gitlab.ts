// A tiny GitLab stand-in for CLI tests: a real HTTP server on 127.0.0.1:0 that answers each
// `METHOD /path` from a script and records what it was sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
}

/** Answers by route; a function sees the request (e.g. to answer by token). */
export type Script = Record<string, ScriptedAnswer | ((request: RecordedRequest) => ScriptedAnswer)>;

export interface ScriptedGitLab {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedGitLab(script: Script): Promise<ScriptedGitLab> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
      requests.push(recorded);
      const entry = script[`${recorded.method} ${recorded.path}`];
      const answer =
        typeof entry === 'function'
          ? entry(recorded)
          : (entry ?? { status: 404, body: { message: '404 Not found' } });
      const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, payload === '' ? {} : { 'Content-Type': 'application/json' });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
