// A tiny read-only git HTTP server (`git http-backend` as CGI) bound to loopback, so jobs clone
// the local repository exactly as they clone from GitLab. QEMU user-mode guests reach it at
// 10.0.2.2. Every request must carry the pipeline's job token as Basic auth.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { spawnChild } from '../process/spawn.js';

export interface GitServer {
  port: number;
  /** Clone URL with credentials, as GitLab's `git_info.repo_url`: http://user:token@host:port/name */
  repoUrl(host: string, repositoryName: string): string;
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** Directory that holds the bare repositories (GIT_PROJECT_ROOT). */
  projectRoot: string;
  username: string;
  password: string;
  /** Address to listen on; default 127.0.0.1. */
  bindAddress?: string;
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const expected = Buffer.from(
    `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`,
  );
  const server = createServer((request, response) => {
    if (!authorised(request, expected)) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="tart exec"' }).end();
      return;
    }
    serveWithHttpBackend(request, response, options.projectRoot).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.bindAddress ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    repoUrl: (host, name) =>
      `http://${encodeURIComponent(options.username)}:${encodeURIComponent(options.password)}@${host}:${port}/${name}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorised(request: IncomingMessage, expected: Buffer): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// CGI: request metadata in the environment, body on stdin, "Header: value" lines then the body on stdout.
async function serveWithHttpBackend(
  request: IncomingMessage,
  response: ServerResponse,
  projectRoot: string,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname.includes('git-receive-pack')) {
    response.writeHead(403).end('read-only');
    return;
  }
  const backend = spawnChild('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      REQUEST_METHOD: request.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      ...(request.headers['content-length'] ? { CONTENT_LENGTH: request.headers['content-length'] } : {}),
      ...(request.headers['content-encoding']
        ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] }
        : {}),
      ...(typeof request.headers['git-protocol'] === 'string'
        ? { GIT_PROTOCOL: request.headers['git-protocol'] }
        : {}),
      REMOTE_ADDR: request.socket.remoteAddress ?? '',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => backend.once('close', () => resolve()));
  const { stdin, stdout } = backend;
  if (!stdin || !stdout) throw new Error('git http-backend started without pipes');
  const input = pipeline(request, stdin).catch(() => backend.kill());
  await relayCgiOutput(stdout, response);
  await Promise.all([input, exited]);
}

async function relayCgiOutput(output: NodeJS.ReadableStream, response: ServerResponse): Promise<void> {
  let head = Buffer.alloc(0);
  let headersDone = false;
  for await (const chunk of output as AsyncIterable<Buffer>) {
    if (headersDone) {
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (!end) continue;
    headersDone = true;
    writeCgiHeaders(head.subarray(0, end.index).toString('latin1'), response);
    const rest = head.subarray(end.index + end.length);
    if (rest.length > 0) response.write(rest);
  }
  if (!headersDone) response.writeHead(502);
  response.end();
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  return lf >= 0 ? { index: lf, length: 2 } : undefined;
}

function writeCgiHeaders(text: string, response: ServerResponse): void {
  let status = 200;
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else response.setHeader(name, value);
  }
  response.writeHead(status);
}
