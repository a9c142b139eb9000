// POST /jobs/request: hands each queued job to exactly one runner (protocol §2).
import {
  emptyReply,
  jsonReply,
  messageReply,
  missingParamReply,
  stringField,
  type JsonBody,
  type Reply,
} from '../http-io.js';
import type { FakeGitLabState, FakeJob, JobAssignment } from '../state.js';
import { FORBIDDEN, readJsonBody, type RouteContext } from './context.js';
import { recordManager } from './runners.js';

export async function requestJob(ctx: RouteContext): Promise<Reply> {
  const polling: Record<string, string> =
    ctx.options.longPollMs > 0 ? { 'Gitlab-Ci-Builds-Polling': 'yes' } : {};
  const body = await readJsonBody(ctx);
  const token = stringField(body, 'token');
  if (token === undefined) return missingParamReply('token');
  const features = declaredFeatures(body);
  if (features === undefined) return jsonReply(400, { error: 'info[features] is missing' });

  const lastUpdate = stringField(body, 'last_update');
  if (lastUpdate !== undefined && lastUpdate === ctx.state.lastUpdate && ctx.options.longPollMs > 0) {
    // Workhorse answers a finished long poll itself: 204 without X-GitLab-Last-Update (§2.3).
    await waitForQueueTick(ctx, ctx.options.longPollMs);
    return emptyReply(204, polling);
  }
  const runner = ctx.state.liveRunner(token);
  if (runner === undefined) return messageReply(403, FORBIDDEN);
  const systemId = recordManager(ctx, runner, body);
  if (lastUpdate !== undefined && lastUpdate === ctx.state.lastUpdate) {
    return emptyReply(204, { ...polling, 'X-GitLab-Last-Update': ctx.state.lastUpdate });
  }
  // No await from here on: taking a job from the queue is atomic, so it is handed out once.
  const job = takeJobFor(ctx.state, { runnerToken: token, systemId, features });
  if (job === undefined) return emptyReply(204, { ...polling, 'X-GitLab-Last-Update': ctx.state.lastUpdate });
  return { status: 201, headers: { ...polling, 'Content-Type': 'application/json' }, body: job.body ?? '' };
}

/** Takes the oldest job this runner can run; jobs needing undeclared features are dropped (§2.1.2). */
function takeJobFor(state: FakeGitLabState, assignment: JobAssignment): FakeJob | undefined {
  for (let job = state.queue.shift(); job !== undefined; job = state.queue.shift()) {
    const missing = job.requiredFeatures.filter((feature) => assignment.features[feature] !== true);
    if (missing.length > 0) {
      job.state = 'failed';
      job.failureReason = 'runner_unsupported';
      state.jobChanged(job);
      continue;
    }
    job.assignedTo = assignment;
    // Two-phase commit: the job stays pending until the runner PUTs state=running (§2.6).
    job.state = assignment.features.two_phase_job_commit === true ? 'pending' : 'running';
    state.jobChanged(job);
    return job;
  }
  return undefined;
}

function declaredFeatures(body: JsonBody): Record<string, unknown> | undefined {
  const info = body.info;
  if (typeof info !== 'object' || info === null) return undefined;
  const features = (info as JsonBody).features;
  return typeof features === 'object' && features !== null && !Array.isArray(features)
    ? (features as Record<string, unknown>)
    : undefined;
}

/** Resolves when the queue value changes, the wait runs out, the client leaves or the server closes. */
function waitForQueueTick(ctx: RouteContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = ctx.req.socket;
    const done = (): void => {
      clearTimeout(timer);
      ctx.state.events.off('queue', done);
      ctx.state.events.off('closing', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    ctx.state.events.on('queue', done);
    ctx.state.events.on('closing', done);
    socket.on('close', done);
  });
}
