// The HTTP front: routes each request to its handler, applies scripted faults, logs the outcome.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { FaultEndpoint, FaultQueue } from './faults.js';
import { GitHttpBackend, matchGitPath } from './git-http.js';
import { messageReply, readBody, redactPath, writeReply } from './http-io.js';
import { downloadArtifact, downloadObject, uploadArtifact } from './routes/artifacts.js';
import type { ResolvedOptions, RouteHandler } from './routes/context.js';
import { updateJob } from './routes/job-update.js';
import { requestJob } from './routes/jobs-request.js';
import {
  deleteRunner,
  deleteRunnerManager,
  registerRunner,
  resetRunnerToken,
  verifyRunner,
} from './routes/runners.js';
import { patchTrace } from './routes/trace.js';
import type { FakeGitLabState, RequestLogEntry } from './state.js';

interface Route {
  method: string;
  path: RegExp;
  endpoint: FaultEndpoint;
  handler: RouteHandler;
}

const ROUTES: Route[] = [
  { method: 'POST', path: /^\/api\/v4\/runners$/, endpoint: 'register', handler: registerRunner },
  { method: 'POST', path: /^\/api\/v4\/runners\/verify$/, endpoint: 'verify', handler: verifyRunner },
  { method: 'DELETE', path: /^\/api\/v4\/runners$/, endpoint: 'unregister', handler: deleteRunner },
  {
    method: 'DELETE',
    path: /^\/api\/v4\/runners\/managers$/,
    endpoint: 'unregister-manager',
    handler: deleteRunnerManager,
  },
  {
    method: 'POST',
    path: /^\/api\/v4\/runners\/reset_authentication_token$/,
    endpoint: 'reset-token',
    handler: resetRunnerToken,
  },
  { method: 'POST', path: /^\/api\/v4\/jobs\/request$/, endpoint: 'request', handler: requestJob },
  { method: 'PUT', path: /^\/api\/v4\/jobs\/(\d+)$/, endpoint: 'update', handler: updateJob },
  { method: 'PATCH', path: /^\/api\/v4\/jobs\/(\d+)\/trace$/, endpoint: 'trace', handler: patchTrace },
  {
    method: 'POST',
    path: /^\/api\/v4\/jobs\/(\d+)\/artifacts$/,
    endpoint: 'artifacts-upload',
    handler: uploadArtifact,
  },
  {
    method: 'GET',
    path: /^\/api\/v4\/jobs\/(\d+)\/artifacts$/,
    endpoint: 'artifacts-download',
    handler: downloadArtifact,
  },
  {
    method: 'GET',
    path: /^\/_object-storage\/[0-9a-f]+$/,
    endpoint: 'object-storage',
    handler: downloadObject,
  },
];

export interface FakeServerParts {
  listenHost: string;
  state: FakeGitLabState;
  faults: FaultQueue;
  options: ResolvedOptions;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** Listens on `listenHost` at a free port; resolves once listening. */
export async function listenFakeServer(
  parts: FakeServerParts,
): Promise<{ server: Server; git: GitHttpBackend; port: number }> {
  const git = new GitHttpBackend(parts.state);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    // GitLab answers every request with a correlation id; runners reuse the job request's for Gitaly.
    res.setHeader('X-Request-Id', randomBytes(13).toString('hex').toUpperCase());
    dispatch(parts, git, req, res).catch((error: unknown) => {
      parts.state.violation(
        `fake GitLab internal error on ${req.method} ${redactPath(req.url ?? '')}: ${String(error)}`,
      );
      if (!res.headersSent) writeReply(res, messageReply(500, '500 Internal Server Error'));
      else res.destroy();
    });
  };
  const server = parts.tls ? (createTlsServer(parts.tls, handler) as unknown as Server) : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, parts.listenHost, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake GitLab did not get a TCP port');
  return { server, git, port: address.port };
}

/** One request: find its handler, apply the next scripted fault, answer, log. */
async function dispatch(
  parts: FakeServerParts,
  git: GitHttpBackend,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake-gitlab.invalid');
  const log = requestLogger(parts.state, req, url);
  const gitPath = matchGitPath(url.pathname);
  const route = gitPath === undefined ? findRoute(req.method, url.pathname) : undefined;
  if (gitPath === undefined && route === undefined) return answerUnrouted(req, res, url, log);
  const endpoint: FaultEndpoint = route?.endpoint ?? 'git';
  const fault = parts.faults.nextGeneric(endpoint);
  if (fault?.kind === 'delay') await sleepUnlessClosing(parts.state, fault.ms);
  // Git answers stream, so a git drop always happens before handling.
  if (fault?.kind === 'drop' && (fault.afterHandling !== true || gitPath !== undefined)) {
    req.socket.destroy();
    return log(endpoint, 'dropped');
  }
  if (fault?.kind === 'status') {
    await readBody(req, 0);
    const message = JSON.stringify({ message: `${fault.status} (injected)` });
    const headers = { 'Content-Type': 'application/json', ...fault.headers };
    writeReply(res, { status: fault.status, headers, body: fault.body ?? message });
    return log(endpoint, fault.status);
  }
  if (gitPath !== undefined) {
    const gitProtocol = req.headers['git-protocol'];
    const status = await git.serve(req, res, url, gitPath);
    return log(endpoint, status, typeof gitProtocol === 'string' ? { gitProtocol } : {});
  }
  const handler = (route as Route).handler;
  const jobId = Number((route as Route).path.exec(url.pathname)?.[1] ?? Number.NaN);
  const reply = await handler({
    req,
    url,
    state: parts.state,
    faults: parts.faults,
    options: parts.options,
    jobId,
  });
  if (fault?.kind === 'drop') {
    req.socket.destroy();
    return log(endpoint, 'dropped');
  }
  writeReply(res, reply);
  log(endpoint, reply.status);
}

type RequestLogger = (
  endpoint: string,
  status: RequestLogEntry['status'],
  extra?: Partial<RequestLogEntry>,
) => void;

/** Appends to the request log once the outcome is known; the path is redacted. */
function requestLogger(state: FakeGitLabState, req: IncomingMessage, url: URL): RequestLogger {
  return (endpoint, status, extra = {}) => {
    const path = redactPath(url.pathname + url.search);
    state.requests.push({ endpoint, method: req.method ?? '', path, status, ...extra });
  };
}

function findRoute(method: string | undefined, pathname: string): Route | undefined {
  return ROUTES.find((route) => route.method === method && route.path.test(pathname));
}

/** 405 for a known path with the wrong method, like Grape; 404 otherwise. */
async function answerUnrouted(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  log: RequestLogger,
): Promise<void> {
  const knownPath = ROUTES.some((route) => route.path.test(url.pathname));
  const reply = knownPath ? messageReply(405, '405 Method Not Allowed') : messageReply(404, '404 Not Found');
  await readBody(req, 0);
  writeReply(res, reply);
  log('unknown', reply.status);
}

function sleepUnlessClosing(state: FakeGitLabState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      state.events.off('closing', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    state.events.on('closing', done);
  });
}
