// Registering, verifying, rotating and removing a runner (protocol reference §1).
import { TartError } from '../errors.js';
import { decodeJson, httpError, isJsonResponse, type ApiResponse } from './api-response.js';
import { callApi, type GitLabConnection, type TlsFiles } from './http.js';
import { buildRegistrationInfo, type RunnerInfo } from './runner-info.js';

/** Connection settings every call takes; `url` and `tls` come from the [[runners]] entry. */
export type ConnectionOptions = Omit<GitLabConnection, 'url' | 'tls'> & { url: string; tls?: TlsFiles };

export interface RegisterRunnerOptions extends ConnectionOptions {
  registrationToken: string;
  description: string;
  tags?: string[];
  runUntagged?: boolean;
  locked?: boolean;
  accessLevel?: 'not_protected' | 'ref_protected';
  maximumTimeout?: number;
  paused?: boolean;
  maintenanceNote?: string;
  systemId: string;
  info?: RunnerInfo;
}

export interface RunnerCredentials {
  id: number;
  token: string;
  /** ISO-8601 UTC; absent when the token does not expire. */
  tokenExpiresAt?: string;
}

/** New-style runner authentication tokens (created in the UI/API) start with `glrt-` (§0.3). */
export function isAuthenticationToken(token: string): boolean {
  return token.startsWith('glrt-');
}

/** POST /runners with a (legacy) registration token. */
export async function registerRunner(options: RegisterRunnerOptions): Promise<RunnerCredentials> {
  const tags = (options.tags ?? []).map((tag) => tag.trim()).filter(Boolean);
  const body = {
    token: options.registrationToken,
    ...(options.description ? { description: options.description } : {}),
    ...(options.maintenanceNote ? { maintenance_note: options.maintenanceNote } : {}),
    ...(tags.length > 0 ? { tag_list: tags.join(',') } : {}),
    run_untagged: tags.length === 0 ? true : (options.runUntagged ?? false),
    locked: options.locked ?? true,
    ...(options.accessLevel ? { access_level: options.accessLevel } : {}),
    ...(options.maximumTimeout ? { maximum_timeout: options.maximumTimeout } : {}),
    paused: options.paused ?? false,
    info: options.info ?? buildRegistrationInfo(options.tartVersion ?? 'unknown'),
  };
  const secrets = [options.registrationToken];
  const response = await callApi(options, {
    method: 'POST',
    endpoint: '/runners',
    json: body,
    headers: { 'RUNNER-TOKEN': options.registrationToken },
  });
  if (response.status === 201)
    return readCredentials(response, 'POST /runners', { requireToken: true }) as RunnerCredentials;
  throw registrationError(response, 'POST /runners', secrets);
}

export interface VerifyRunnerOptions extends ConnectionOptions {
  token: string;
  systemId: string;
  info?: RunnerInfo;
}

/** POST /runners/verify: checks the token and creates this host's runner manager. 403 → RUNNER_FORBIDDEN. */
export async function verifyRunner(options: VerifyRunnerOptions): Promise<Partial<RunnerCredentials>> {
  const body = {
    ...(options.info ? { info: options.info } : {}),
    token: options.token,
    system_id: options.systemId,
  };
  const response = await callApi(options, {
    method: 'POST',
    endpoint: '/runners/verify',
    json: body,
    headers: { 'RUNNER-TOKEN': options.token },
  });
  if (response.status === 200) {
    // Very old GitLab answers a plain-text "200": valid, but no details.
    if (!isJsonResponse(response)) return {};
    return readCredentials(response, 'POST /runners/verify', { requireToken: false });
  }
  throw registrationError(response, 'POST /runners/verify', [options.token]);
}

export interface TokenOptions extends ConnectionOptions {
  token: string;
}

/** DELETE /runners: removes a legacy-registered runner. */
export async function unregisterRunner(options: TokenOptions): Promise<void> {
  const response = await callApi(options, {
    method: 'DELETE',
    endpoint: '/runners',
    json: { token: options.token },
    headers: { 'RUNNER-TOKEN': options.token },
  });
  if (response.status !== 204 && response.status !== 200)
    throw registrationError(response, 'DELETE /runners', [options.token]);
}

/** DELETE /runners/managers: removes only this host's manager of a `glrt-` runner. */
export async function unregisterRunnerManager(options: TokenOptions & { systemId: string }): Promise<void> {
  const response = await callApi(options, {
    method: 'DELETE',
    endpoint: '/runners/managers',
    json: { token: options.token, system_id: options.systemId },
    headers: { 'RUNNER-TOKEN': options.token },
  });
  if (response.status === 204 || response.status === 200) return;
  if (response.status === 404)
    throw httpError('RUNNER_MANAGER_NOT_FOUND', 'DELETE /runners/managers', response, [options.token]);
  throw registrationError(response, 'DELETE /runners/managers', [options.token]);
}

/** POST /runners/reset_authentication_token: rotates the runner's own token (§1.5). */
export async function resetRunnerToken(options: TokenOptions): Promise<Omit<RunnerCredentials, 'id'>> {
  const label = 'POST /runners/reset_authentication_token';
  const response = await callApi(options, {
    method: 'POST',
    endpoint: '/runners/reset_authentication_token',
    json: { token: options.token },
  });
  if (response.status !== 201) throw registrationError(response, label, [options.token]);
  const { token, tokenExpiresAt } = readCredentials(response, label, {
    requireToken: true,
    requireId: false,
  });
  return { token: token as string, ...(tokenExpiresAt ? { tokenExpiresAt } : {}) };
}

// `{id, token, token_expires_at}` from a registration-details body.
function readCredentials(
  response: ApiResponse,
  label: string,
  rules: { requireToken: boolean; requireId?: boolean },
): Partial<RunnerCredentials> {
  const body = decodeJson(response, label) as Record<string, unknown> | null;
  const id = body?.id;
  const token = body?.token;
  const expires = body?.token_expires_at;
  const idOk = typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
  if ((rules.requireId ?? rules.requireToken) && !idOk)
    throw new TartError('GITLAB_BAD_RESPONSE', `${label}: the response has no runner id`);
  if (rules.requireToken && (typeof token !== 'string' || token === ''))
    throw new TartError('GITLAB_BAD_RESPONSE', `${label}: the response has no token`);
  return {
    ...(idOk ? { id } : {}),
    ...(typeof token === 'string' && token !== '' ? { token } : {}),
    ...(typeof expires === 'string' && expires !== '' ? { tokenExpiresAt: expires } : {}),
  };
}

// Stable codes for the statuses §1 documents.
function registrationError(response: ApiResponse, label: string, secrets: string[]): TartError {
  switch (response.status) {
    case 403:
      return httpError('RUNNER_FORBIDDEN', label, response, secrets);
    case 410:
      return httpError('REGISTRATION_DISABLED', label, response, secrets);
    case 400:
    case 422:
      return httpError('GITLAB_REJECTED', label, response, secrets);
    default:
      return httpError('GITLAB_HTTP_ERROR', label, response, secrets);
  }
}
