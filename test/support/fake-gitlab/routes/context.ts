// What every route receives, and the job-token checks the /jobs/:id endpoints share (§4.2, §5.2).
import type { IncomingMessage } from 'node:http';
import type { FaultQueue } from '../faults.js';
import {
  headerValue,
  messageReply,
  parseJsonObject,
  readBody,
  type JsonBody,
  type Reply,
} from '../http-io.js';
import { ACTIVE_STATES, type FakeGitLabState, type FakeJob } from '../state.js';

export interface ResolvedOptions {
  /** Hold /jobs/request up to this long while last_update is current (Workhorse long polling). */
  longPollMs: number;
  /** Seconds sent as X-GitLab-Trace-Update-Interval on trace patches. */
  traceUpdateInterval: number;
  /** Artifact uploads above this many bytes get 413. */
  maxArtifactSize: number;
  /** Answer artifact downloads with direct_download=true by a 302 to a pre-signed-like path. */
  artifactsDownloadRedirect: boolean;
}

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  state: FakeGitLabState;
  faults: FaultQueue;
  options: ResolvedOptions;
  /** The numeric :id from the path, for /jobs/:id routes. */
  jobId: number;
}

export type RouteHandler = (ctx: RouteContext) => Promise<Reply>;

export const FORBIDDEN = '403 Forbidden';
export const NOT_PROCESSING = '403 Forbidden - Job is not processing on runner';

/** The job the token belongs to, if it is this job; else the 403 GitLab gives without Job-Status. */
export function jobForToken(ctx: RouteContext, token: string | undefined): FakeJob | Reply {
  const job = ctx.state.jobs.get(ctx.jobId);
  if (job === undefined || token === undefined || job.token === '' || job.token !== token) {
    return messageReply(403, FORBIDDEN);
  }
  return job;
}

/** A 403 + Job-Status when the job is not running or canceling; undefined when it is. */
export function rejectUnlessActive(job: FakeJob): Reply | undefined {
  if (ACTIVE_STATES.includes(job.state)) return undefined;
  return messageReply(403, NOT_PROCESSING, { 'Job-Status': job.state });
}

/** Reads a JSON request body (GitLab's runner API bodies are small); `{}` when it is not JSON. */
export async function readJsonBody(ctx: RouteContext): Promise<JsonBody> {
  const contentType = headerValue(ctx.req, 'content-type') ?? '';
  const { bytes } = await readBody(ctx.req, JSON_BODY_LIMIT);
  if (bytes.length > 0 && !/^application\/json\b/i.test(contentType)) {
    ctx.state.violation(
      `${ctx.req.method} ${ctx.url.pathname}: JSON body sent with Content-Type "${contentType}"`,
    );
  }
  return parseJsonObject(bytes) ?? {};
}

/** Distinguishes a route's early answer from the value it was looking up. */
export function isReply(value: object): value is Reply {
  return 'status' in value;
}

const JSON_BODY_LIMIT = 1024 * 1024;
