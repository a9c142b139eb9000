// Where get_sources fetches from, and the credentials git gets for it. The remote URL never holds
// the job token; git asks a credential helper that reads a 0600 file in the tmp dir, so the token
// is on no command line (insteadOf rewrites would put it on git-remote-https's) and in no .git/config.
import type { JobPayload, JobVariable } from './payload.js';
import type { RunnerSettings } from './runner-settings.js';
import { getVariable } from './variables.js';

export interface GitRemote {
  /** The remote URL as stored in .git/config: no credentials. */
  url: string;
  /** `scheme://host[:port]` of the remote, for `git credential reject` and http.<base>.* settings. */
  base: string;
  /** The hosts (`scheme://host[:port]`) the credentials are offered to: the remote's and repo_url's. */
  credentialBases: string[];
  /** From repo_url's userinfo (`gitlab-ci-token:<job token>`); absent for a URL without one. */
  credentials?: { username: string; password: string };
}

interface ParsedUrl {
  scheme: string;
  userinfo: string | undefined;
  host: string;
  path: string;
}

/** The remote for a job: `repo_url`, or `<clone_url>/<CI_PROJECT_PATH>.git`, with repo_url's credentials. */
export function gitRemoteFor(input: {
  job: JobPayload;
  runner: RunnerSettings;
  variables: JobVariable[];
}): GitRemote {
  const repo = parseUrl(input.job.git_info.repo_url);
  const cloneUrl = input.runner.cloneUrl ? parseUrl(input.runner.cloneUrl.replace(/\/+$/, '')) : undefined;
  const remote = cloneUrl ? { ...cloneUrl, path: `${cloneUrl.path}/${projectPath(input)}.git` } : repo;
  const bases = [baseOf(remote), baseOf(repo)].filter((base) => base !== '');
  return {
    url: format({ ...remote, userinfo: undefined }),
    base: baseOf(remote),
    credentialBases: [...new Set(bases)],
    credentials: credentialsOf(repo.userinfo),
  };
}

/**
 * GIT_SUBMODULE_FORCE_HTTPS: insteadOf rewrites that send SSH submodule URLs on the GitLab host
 * (`git@host:` and `ssh://git@host[:port]/`) to its HTTP(S) base, where the credential helper answers.
 */
export function forceHttpsRewrites(
  remote: GitRemote,
  variables: JobVariable[],
): Array<{ url: string; insteadOf: string }> {
  const base = [remote.base, ...remote.credentialBases].find((candidate) => /^https?:\/\//.test(candidate));
  if (base === undefined) return [];
  const host =
    getVariable(variables, 'CI_SERVER_SHELL_SSH_HOST') ||
    getVariable(variables, 'CI_SERVER_HOST') ||
    hostName(base);
  const port = getVariable(variables, 'CI_SERVER_SHELL_SSH_PORT');
  const sshBase = `ssh://git@${host}${port && port !== '22' ? `:${port}` : ''}/`;
  return [
    { url: `${base}/`, insteadOf: `git@${host}:` },
    { url: `${base}/`, insteadOf: sshBase },
  ];
}

// The host of `scheme://host[:port]`, without the port.
function hostName(base: string): string {
  return base.replace(/^[^:]+:\/\//, '').replace(/:\d+$/, '');
}

// `group/project` for clone_url remotes.
function projectPath(input: { job: JobPayload; variables: JobVariable[] }): string {
  return (
    getVariable(input.variables, 'CI_PROJECT_PATH') ??
    input.job.job_info.project_full_path ??
    ''
  ).replace(/^\/+|\/+$/g, '');
}

// "user:password" → its decoded parts; no password means nothing to offer.
function credentialsOf(userinfo: string | undefined): GitRemote['credentials'] {
  if (userinfo === undefined) return undefined;
  const colon = userinfo.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function baseOf(url: ParsedUrl): string {
  return url.scheme === '' ? '' : `${url.scheme}://${url.host}`;
}

// Splits scheme://[userinfo@]host/path without decoding anything, so the URL round-trips byte for byte.
function parseUrl(url: string): ParsedUrl {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/]*)(.*)$/.exec(url);
  if (!match) return { scheme: '', userinfo: undefined, host: '', path: url };
  return { scheme: match[1] ?? '', userinfo: match[2], host: match[3] ?? '', path: match[4] ?? '' };
}

function format(url: ParsedUrl): string {
  if (url.scheme === '') return url.path;
  return `${url.scheme}://${url.userinfo === undefined ? '' : `${url.userinfo}@`}${url.host}${url.path}`;
}
