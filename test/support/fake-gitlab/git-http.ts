// Git smart HTTP through the real `git http-backend` CGI, with GitLab's job-token basic auth:
// user `gitlab-ci-token`, password the token of a job that is running right now.
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { headerValue, messageReply, writeReply } from './http-io.js';
import { ACTIVE_STATES, type FakeGitLabState } from './state.js';

const GIT_PATH = /^\/(.+?)\.git(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*))$/;

export interface GitPath {
  projectPath: string;
  /** The path inside the repository, e.g. `/info/refs`. */
  inRepo: string;
}

export function matchGitPath(pathname: string): GitPath | undefined {
  const match = GIT_PATH.exec(pathname);
  return match === null ? undefined : { projectPath: match[1] ?? '', inRepo: match[2] ?? '' };
}

export class GitHttpBackend {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly state: FakeGitLabState) {}

  /** Serves one request and returns the status it answered with. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL, path: GitPath): Promise<number> {
    if (!this.authorised(req)) {
      const reply = messageReply(401, 'HTTP Basic: Access denied', {
        'WWW-Authenticate': 'Basic realm="GitLab"',
      });
      return this.answer(req, res, reply);
    }
    const project = this.state.projects.get(path.projectPath);
    if (project === undefined) return this.answer(req, res, messageReply(404, '404 Project Not Found'));
    // Job tokens may read a repository but never push to it; the dumb protocol is not served.
    const service = url.searchParams.get('service');
    if (path.inRepo === '/git-receive-pack' || service === 'git-receive-pack') {
      return this.answer(req, res, messageReply(403, 'You are not allowed to upload code.'));
    }
    if (path.inRepo === '/info/refs' && service !== 'git-upload-pack') {
      return this.answer(req, res, messageReply(403, 'dumb HTTP protocol is not supported'));
    }
    return this.runBackend(req, res, url, { repoDir: project.bareDir, inRepo: path.inRepo });
  }

  /** Kills backends still running (client gone mid-clone) so close() leaves no processes. */
  close(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }

  private authorised(req: IncomingMessage): boolean {
    const header = headerValue(req, 'authorization');
    const encoded = header === undefined ? undefined : /^Basic\s+(\S+)$/i.exec(header)?.[1];
    if (encoded === undefined) return false;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1 || decoded.slice(0, colon) !== 'gitlab-ci-token') return false;
    const job = this.state.jobByToken(decoded.slice(colon + 1));
    return job !== undefined && ACTIVE_STATES.includes(job.state);
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    reply: { status: number },
  ): Promise<number> {
    req.resume();
    writeReply(res, reply);
    return reply.status;
  }

  private async runBackend(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    repo: { repoDir: string; inRepo: string },
  ): Promise<number> {
    const child = spawn('git', ['http-backend'], {
      env: cgiEnvironment(req, url, repo),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stderr.resume();
    res.once('close', () => child.kill('SIGKILL'));
    const headers = new CgiHeaderParser(res);
    // The backend may stop reading early (e.g. on a bad request); its EPIPE is not our failure.
    const upload = pipeline(req, child.stdin).catch(() => undefined);
    const download = pipeline(child.stdout, headers, res).catch(() => undefined);
    await Promise.all([upload, download, exited]);
    this.children.delete(child);
    return headers.status;
  }
}

/** The CGI/1.1 variables git http-backend reads (git-http-backend(1)). */
function cgiEnvironment(
  req: IncomingMessage,
  url: URL,
  repo: { repoDir: string; inRepo: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: dirname(repo.repoDir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${basename(repo.repoDir)}${repo.inRepo}`,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    REMOTE_USER: 'gitlab-ci-token',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
  };
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: headerValue(req, 'content-type'),
    CONTENT_LENGTH: headerValue(req, 'content-length'),
    HTTP_CONTENT_ENCODING: headerValue(req, 'content-encoding'),
    // Protocol v2 is negotiated through this header; http-backend reads it as GIT_PROTOCOL.
    GIT_PROTOCOL: headerValue(req, 'git-protocol'),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) env[key] = value;
  return env;
}

/** Turns CGI output (headers, blank line, body) into an HTTP response. */
class CgiHeaderParser extends Transform {
  status = 502;
  private pending: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly res: ServerResponse) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.pending === undefined) return callback(null, chunk);
    const buffered = Buffer.concat([this.pending, chunk]);
    const crlf = buffered.indexOf('\r\n\r\n');
    const lf = buffered.indexOf('\n\n');
    const [end, gap] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : [lf, 2];
    if (end === -1) {
      this.pending = buffered;
      return callback();
    }
    this.pending = undefined;
    this.writeHead(buffered.subarray(0, end).toString('latin1'));
    callback(null, buffered.subarray(end + gap));
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending !== undefined) this.writeHead('Status: 502 Bad Gateway');
    callback();
  }

  private writeHead(block: string): void {
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of block.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 502;
      else headers[name] = value;
    }
    this.status = status;
    this.res.writeHead(status, headers);
  }
}
