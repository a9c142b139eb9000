// Runner registration and lifecycle endpoints (protocol §1).
import {
  emptyReply,
  jsonReply,
  messageReply,
  missingParamReply,
  stringField,
  type JsonBody,
  type Reply,
} from '../http-io.js';
import { randomToken, type RunnerRecord } from '../state.js';
import { FORBIDDEN, readJsonBody, type RouteContext } from './context.js';

/** POST /runners: legacy registration with a registration token (§1.1). */
export async function registerRunner(ctx: RouteContext): Promise<Reply> {
  const body = await readJsonBody(ctx);
  const token = stringField(body, 'token');
  if (token === undefined) return missingParamReply('token');
  if (!ctx.state.registrationTokens.has(token)) return messageReply(403, FORBIDDEN);
  if (body.run_untagged === false && tagList(body).length === 0) {
    return jsonReply(400, {
      message: { tags_list: ['can not be empty when runner is not allowed to pick untagged jobs'] },
    });
  }
  // Newer GitLab prefixes legacy-registered runner tokens with t1_/t2_/t3_ (instance/group/project).
  const runner = addRunnerRecord(ctx, `t1_${randomToken(20)}`);
  return jsonReply(201, { id: runner.id, token: runner.token, token_expires_at: runner.tokenExpiresAt });
}

/** POST /runners/verify: checks the token and records the runner manager (§1.2). */
export async function verifyRunner(ctx: RouteContext): Promise<Reply> {
  const body = await readJsonBody(ctx);
  const token = stringField(body, 'token');
  if (token === undefined) return missingParamReply('token');
  const runner = ctx.state.liveRunner(token);
  if (runner === undefined) return messageReply(403, FORBIDDEN);
  recordManager(ctx, runner, body);
  return jsonReply(200, { id: runner.id, token: runner.token, token_expires_at: runner.tokenExpiresAt });
}

/** DELETE /runners: deletes a legacy-registered runner (§1.3). */
export async function deleteRunner(ctx: RouteContext): Promise<Reply> {
  const token = stringField(await readJsonBody(ctx), 'token');
  if (token === undefined) return missingParamReply('token');
  if (ctx.state.liveRunner(token) === undefined) return messageReply(403, FORBIDDEN);
  if (token.startsWith('glrt-'))
    ctx.state.violation('DELETE /runners used with a glrt- token (use /runners/managers)');
  ctx.state.runners.delete(token);
  return emptyReply(204);
}

/** DELETE /runners/managers: deletes this process's runner manager (§1.4). */
export async function deleteRunnerManager(ctx: RouteContext): Promise<Reply> {
  const body = await readJsonBody(ctx);
  const token = stringField(body, 'token');
  if (token === undefined) return missingParamReply('token');
  const systemId = stringField(body, 'system_id');
  if (systemId === undefined) return missingParamReply('system_id');
  const runner = ctx.state.liveRunner(token);
  if (runner === undefined) return messageReply(403, FORBIDDEN);
  if (!runner.managers.delete(systemId)) return messageReply(404, '404 Runner manager not found');
  return emptyReply(204);
}

/** POST /runners/reset_authentication_token: rotates the runner's own token (§1.5). */
export async function resetRunnerToken(ctx: RouteContext): Promise<Reply> {
  const token = stringField(await readJsonBody(ctx), 'token');
  if (token === undefined) return missingParamReply('token');
  const runner = ctx.state.liveRunner(token);
  if (runner === undefined) return messageReply(403, FORBIDDEN);
  ctx.state.runners.delete(token);
  const prefix = runner.kind === 'created' ? 'glrt-' : 't1_';
  // The new token lives as long as the old one was meant to (§1.5, §1.6).
  const lifetime =
    runner.tokenExpiresAt === null
      ? undefined
      : Date.parse(runner.tokenExpiresAt) - runner.tokenIssuedAt.getTime();
  const rotated: RunnerRecord = {
    ...runner,
    token: `${prefix}${randomToken(20)}`,
    tokenIssuedAt: new Date(),
    tokenExpiresAt: lifetime === undefined ? null : new Date(Date.now() + lifetime).toISOString(),
  };
  ctx.state.runners.set(rotated.token, rotated);
  return jsonReply(201, { token: rotated.token, token_expires_at: rotated.tokenExpiresAt });
}

/** Creates or refreshes the manager row for the request's system_id (§1.2, §2.3 step 1). */
export function recordManager(ctx: RouteContext, runner: RunnerRecord, body: JsonBody): string {
  const systemId = stringField(body, 'system_id');
  if (systemId === undefined) ctx.state.violation(`${ctx.url.pathname}: request without system_id`);
  else if (!/^[sr]_[0-9a-zA-Z]{12}$/.test(systemId))
    ctx.state.violation(`${ctx.url.pathname}: malformed system_id ${systemId}`);
  const key = systemId ?? '<legacy>';
  const info = body.info;
  const features = typeof info === 'object' && info !== null ? (info as JsonBody).features : undefined;
  runner.managers.set(key, {
    systemId: key,
    features: typeof features === 'object' && features !== null ? (features as Record<string, unknown>) : {},
    contactedAt: new Date(),
  });
  return key;
}

export function addRunnerRecord(
  ctx: Pick<RouteContext, 'state'>,
  token: string,
  tokenExpiresAt: string | null = null,
): RunnerRecord {
  const runner: RunnerRecord = {
    id: ctx.state.allocateRunnerId(),
    token,
    kind: token.startsWith('glrt-') ? 'created' : 'legacy',
    tokenExpiresAt,
    tokenIssuedAt: new Date(),
    managers: new Map(),
  };
  ctx.state.runners.set(token, runner);
  return runner;
}

function tagList(body: JsonBody): string[] {
  const tags = body.tag_list;
  if (Array.isArray(tags)) return tags.filter((tag): tag is string => typeof tag === 'string' && tag !== '');
  return typeof tags === 'string'
    ? tags
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== '')
    : [];
}
