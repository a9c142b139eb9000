// POST /jobs/request: asking GitLab for a job, with long polling via `last_update` (§2).
import { TartError } from '../errors.js';
import { decodeJson, headerValue, httpError } from './api-response.js';
import { callApi } from './http.js';
import type { ConnectionOptions } from './registration.js';
import type { RunnerInfo } from './runner-info.js';

export { TART_FEATURES } from './runner-info.js';

export interface RequestJobOptions extends ConnectionOptions {
  token: string;
  systemId: string;
  /** The last non-empty `X-GitLab-Last-Update` seen for this runner; omitted while unknown. */
  lastUpdate?: string;
  info: RunnerInfo;
  /** Aborts the (possibly long-polling) request, e.g. on shutdown. Rejects with code ABORTED. */
  signal: AbortSignal;
}

export type RequestJobResult =
  /** A job was assigned: `raw` is the decoded body (parse it with parseJobPayload), `body` the bytes. */
  | { kind: 'job'; raw: unknown; body: Buffer }
  /** No job (204), or another runner won the race (409). Remember `lastUpdate` when present. */
  | { kind: 'none'; lastUpdate?: string };

/**
 * Asks for one job. 201 → job; 204/409 → none; 403 → RUNNER_FORBIDDEN (unhealthy);
 * 503 after retries → GITLAB_UNAVAILABLE; other statuses → GITLAB_HTTP_ERROR; transport → GITLAB_NETWORK_ERROR.
 */
export async function requestJob(options: RequestJobOptions): Promise<RequestJobResult> {
  const label = 'POST /jobs/request';
  const body = {
    info: options.info,
    token: options.token,
    system_id: options.systemId,
    ...(options.lastUpdate ? { last_update: options.lastUpdate } : {}),
  };
  const response = await callApi(options, {
    method: 'POST',
    endpoint: '/jobs/request',
    json: body,
    headers: { 'RUNNER-TOKEN': options.token },
    signal: options.signal,
  });
  const lastUpdate = headerValue(response.headers, 'x-gitlab-last-update') || undefined;
  switch (response.status) {
    case 201:
      return { kind: 'job', raw: decodeJson(response, label), body: response.body };
    case 204:
    case 409:
      return lastUpdate ? { kind: 'none', lastUpdate } : { kind: 'none' };
    case 403:
      throw httpError('RUNNER_FORBIDDEN', label, response, [options.token]);
    case 503:
      throw httpError('GITLAB_UNAVAILABLE', label, response, [options.token]);
    default:
      throw httpError('GITLAB_HTTP_ERROR', label, response, [options.token]);
  }
}

/**
 * True for errors that count toward unhealthy_requests_limit: gitlab-runner's (§2.4: 403, a client
 * that cannot be built) plus an unreachable GitLab (no HTTP answer at all). gitlab-runner logs the
 * latter as "failed" every check_interval forever; Tart backs off from it too (issue #17).
 */
export function isUnhealthyRequestError(error: unknown): boolean {
  return (
    error instanceof TartError &&
    (error.code === 'RUNNER_FORBIDDEN' ||
      error.code === 'GITLAB_BAD_URL' ||
      error.code === 'GITLAB_TLS_FILE' ||
      error.code === 'GITLAB_NETWORK_ERROR')
  );
}
