// A GitLab on the host's loopback, as a VM guest sees it. QEMU user-mode guests reach the host's
// 127.0.0.1 at an alias (10.0.2.2), so a URL naming 127.0.0.1, localhost or [::1] is rewritten to
// the alias, same scheme and port, in what the guest is given: repo_url, clone_url and the server
// variables. Only the job's scripts get the rewritten view; Tart's own API calls keep the real URL.
import type { JobPayload, JobVariable } from './payload.js';
import type { RunnerSettings } from './runner-settings.js';

/** The hosts that mean "this machine's loopback" in a GitLab URL. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Variables holding a URL on the GitLab server (gitlab-runner's predefined set). */
const URL_VARIABLES = new Set([
  'CI_SERVER_URL',
  'CI_API_V4_URL',
  'CI_API_GRAPHQL_URL',
  'CI_REPOSITORY_URL',
  'CI_PROJECT_URL',
  'CI_PIPELINE_URL',
  'CI_JOB_URL',
  'CI_MERGE_REQUEST_PROJECT_URL',
  'CI_MERGE_REQUEST_SOURCE_PROJECT_URL',
]);

/** Variables holding the server's host, or host:port. */
const HOST_VARIABLES = new Set(['CI_SERVER_HOST', 'CI_SERVER_FQDN', 'CI_SERVER_SHELL_SSH_HOST']);

/** What a job's scripts see inside the guest, and the git rewrites from the real origins. */
export interface GuestView {
  job: JobPayload;
  runner: RunnerSettings;
  /** git `url.<to>.insteadOf <from>` pairs: absolute URLs (submodules) on a loopback origin. */
  gitRewrites: Array<{ url: string; insteadOf: string }>;
}

/** The job and runner settings with every loopback GitLab URL pointing at `alias` instead. */
export function guestViewOf(input: { job: JobPayload; runner: RunnerSettings; alias: string }): GuestView {
  const { job, runner, alias } = input;
  const origins = new Map<string, string>();
  const rewrite = (url: string): string => {
    const rewritten = guestUrl(url, alias);
    if (rewritten !== url) origins.set(originOf(url), originOf(rewritten));
    return rewritten;
  };
  const guestJob: JobPayload = {
    ...job,
    git_info: { ...job.git_info, repo_url: rewrite(job.git_info.repo_url) },
    variables: job.variables.map((variable) => guestVariable(variable, alias, rewrite)),
  };
  const guestRunner: RunnerSettings =
    runner.cloneUrl === undefined ? runner : { ...runner, cloneUrl: rewrite(runner.cloneUrl) };
  return {
    job: guestJob,
    runner: guestRunner,
    gitRewrites: [...origins].map(([from, to]) => ({ url: `${to}/`, insteadOf: `${from}/` })),
  };
}

/** `url` with a loopback host replaced by `alias` (userinfo, port and path kept); others unchanged. */
export function guestUrl(url: string, alias: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)((?:[^@/?#]*@)?)(\[[^\]]*\]|[^:/?#]*)(.*)$/s.exec(url);
  if (!match) return url;
  const [, scheme = '', userinfo = '', host = '', rest = ''] = match;
  return isLoopbackHost(host) ? `${scheme}${userinfo}${alias}${rest}` : url;
}

/** True for 127.0.0.1, localhost (any case) and [::1] / ::1. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  return LOOPBACK_HOSTS.has(lower) || lower === '::1';
}

// A server variable with its loopback host rewritten; every other variable as it was.
function guestVariable(variable: JobVariable, alias: string, rewrite: (url: string) => string): JobVariable {
  if (URL_VARIABLES.has(variable.key)) return { ...variable, value: rewrite(variable.value) };
  if (HOST_VARIABLES.has(variable.key)) return { ...variable, value: guestHostAndPort(variable.value, alias) };
  return variable;
}

// "localhost" / "127.0.0.1:8080" / "[::1]:8080" → the alias, port kept.
function guestHostAndPort(value: string, alias: string): string {
  const match = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(value);
  if (!match || !isLoopbackHost(match[1] ?? '')) return value;
  return `${alias}${match[2] ?? ''}`;
}

// scheme://host[:port] of a URL, without userinfo.
function originOf(url: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?([^/?#]*)/.exec(url);
  return match ? `${match[1] ?? ''}${match[2] ?? ''}` : url;
}
