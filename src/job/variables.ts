// The job's variable list (job-execution §10, protocol §9.1): GitLab's payload variables plus the
// ones the runner adds, in gitlab-runner's order, expanded once the way the runner expands them.
import { arch } from 'node:process';
import { posix } from 'node:path';
import { TartError } from '../errors.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS } from '../model/defaults.js';
import type { JobPayload, JobVariable } from '../model/payload.js';
import { featureFlagVariables, type ResolvedFlag } from './feature-flags.js';
import { expandVariables, getVariable, isTruthy } from '../model/variables.js';
import type { RunnerSettings } from './types.js';

export { expandVariables, getVariable, isTruthy };

export interface BuildJobVariablesInput {
  job: JobPayload;
  runner: RunnerSettings;
  executorName: string;
  buildsDir: string;
  projectDir: string;
  disposable: boolean;
  /** Slot indexes (CI_CONCURRENT_ID / CI_CONCURRENT_PROJECT_ID); default 0. */
  concurrentId?: number;
  concurrentProjectId?: number;
  /** PEM contents exported as the CI_SERVER_TLS_* file variables, when GitLab is spoken to over TLS. */
  tls?: { caChain?: string; cert?: string; key?: string };
  /** CI_RUNNER_REVISION; default "unknown". */
  revision?: string;
  /** Resolved feature flags: exported first; the job's own variables of these names are dropped. */
  featureFlags?: readonly ResolvedFlag[];
}

/**
 * GitLab's variables plus the runner-added ones, in the final order, with every non-`raw` value
 * already expanded once (§10.3). Later entries win. File variables keep their contents as value;
 * references to them expand to their path under RUNNER_TEMP_PROJECT_DIR.
 */
export function buildJobVariables(input: BuildJobVariablesInput): JobVariable[] {
  const { job, runner } = input;
  const runnerAdded = (key: string, value: string, extra: Partial<JobVariable> = {}): JobVariable => ({
    key,
    value,
    public: true,
    masked: false,
    ...extra,
  });
  const flagNames = new Set((input.featureFlags ?? []).map((flag) => flag.name));
  const list: JobVariable[] = [
    ...featureFlagVariables(input.featureFlags ?? []),
    ...(job.image?.name ? [runnerAdded('CI_JOB_IMAGE', job.image.name)] : []),
    runnerAdded('CI_RUNNER_SHORT_TOKEN', shortRunnerToken(runner.token)),
    ...runner.environment.flatMap((entry) => parseEnvironmentEntry(entry)),
    runnerAdded('CI_BUILDS_DIR', input.buildsDir),
    runnerAdded('CI_PROJECT_DIR', input.projectDir),
    runnerAdded('CI_CONCURRENT_ID', String(input.concurrentId ?? 0)),
    runnerAdded('CI_CONCURRENT_PROJECT_ID', String(input.concurrentProjectId ?? 0)),
    runnerAdded('CI_SERVER', 'yes'),
    runnerAdded('CI_JOB_STATUS', 'running'),
    runnerAdded('CI_JOB_TIMEOUT', String(jobTimeoutSeconds(job))),
    ...tlsVariables(input.tls),
    ...job.variables.filter((variable) => !flagNames.has(variable.key)),
    input.disposable
      ? runnerAdded('CI_DISPOSABLE_ENVIRONMENT', 'true')
      : runnerAdded('CI_SHARED_ENVIRONMENT', 'true'),
    runnerAdded('CI_RUNNER_VERSION', runner.version),
    runnerAdded('CI_RUNNER_REVISION', input.revision ?? 'unknown'),
    runnerAdded('CI_RUNNER_EXECUTABLE_ARCH', `linux/${goArch(arch)}`),
    runnerAdded('RUNNER_TEMP_PROJECT_DIR', `${input.projectDir}.tmp`),
  ];
  return list.map((variable) =>
    variable.raw ? variable : { ...variable, value: expandVariables(variable.value, list) },
  );
}


/**
 * CI_PROJECT_DIR for a disposable environment: `<buildsDir>/<namespace>/<project>` from the repo
 * URL's path (`project-<id>` when it cannot be used), `-empty` for GIT_STRATEGY=empty, or the
 * expanded GIT_CLONE_PATH (which must lie inside buildsDir) when custom build dirs are allowed.
 */
export function projectDirFor(input: {
  job: JobPayload;
  buildsDir: string;
  variables?: JobVariable[];
  /** `[runners.custom_build_dir] enabled`; default true (each VM is fresh, like docker). */
  customBuildDir?: boolean;
}): string {
  const buildsDir = posix.normalize(input.buildsDir);
  const lookup: JobVariable[] = [
    { key: 'CI_BUILDS_DIR', value: buildsDir },
    ...(input.variables ?? input.job.variables),
  ];
  const clonePath = getVariable(lookup, 'GIT_CLONE_PATH');
  if (clonePath !== undefined && clonePath !== '')
    return customProjectDir(expandVariables(clonePath, lookup), buildsDir, input.customBuildDir ?? true);
  const suffix = getVariable(lookup, 'GIT_STRATEGY') === 'empty' ? '-empty' : '';
  return posix.join(buildsDir, projectSlug(input.job)) + suffix;
}

/**
 * The runner token as shown in logs and CI_RUNNER_SHORT_TOKEN: known prefixes stripped, first 9
 * characters (gitlab-runner ≥ 18.2).
 */
export function shortRunnerToken(token: string): string {
  const stripped = token.replace(/^(glrt-t\d_|glrtr-|glrt-|glcbt-|t\d_|GR1348941)/, '');
  return stripped.slice(0, 9);
}

// `<namespace>/<project>` from git_info.repo_url, like gitlab-runner's ProjectSlug.
function projectSlug(job: JobPayload): string {
  const fallback = `project-${job.job_info.project_id}`;
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*(\/.*)?$/.exec(job.git_info.repo_url);
  if (!match) return fallback;
  const path = (match[1] ?? '').replace(/[?#].*$/, '');
  const slug = posix
    .normalize(path)
    .replace(/\.git$/, '')
    .replace(/^\/+|\/+$/g, '');
  if (slug === '' || slug === '.' || slug.split('/').includes('..')) return fallback;
  return slug;
}

// GIT_CLONE_PATH after expansion: only when allowed, and only inside the builds dir (§3.8).
function customProjectDir(path: string, buildsDir: string, allowed: boolean): string {
  if (!allowed) {
    throw new TartError(
      'GIT_CLONE_PATH_NOT_ALLOWED',
      'setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature',
    );
  }
  const cleaned = posix
    .normalize(posix.isAbsolute(path) ? path : posix.join(buildsDir, path))
    .replace(/\/+$/, '');
  if (!cleaned.startsWith(`${buildsDir.replace(/\/+$/, '')}/`)) {
    throw new TartError(
      'GIT_CLONE_PATH_OUTSIDE_BUILDS_DIR',
      `the GIT_CLONE_PATH=${JSON.stringify(path)} has to be within ${JSON.stringify(buildsDir)}`,
      {
        details: { path, buildsDir },
      },
    );
  }
  return cleaned;
}

// "KEY=VALUE" from the runner's `environment`; entries without "=" are ignored.
function parseEnvironmentEntry(entry: string): JobVariable[] {
  const equals = entry.indexOf('=');
  if (equals <= 0) return [];
  return [{ key: entry.slice(0, equals), value: entry.slice(equals + 1), public: true, masked: false }];
}

// The CI_SERVER_TLS_* file variables (the key is not public, like gitlab-runner's).
function tlsVariables(tls: BuildJobVariablesInput['tls']): JobVariable[] {
  if (!tls) return [];
  const list: JobVariable[] = [];
  if (tls.caChain) list.push({ key: 'CI_SERVER_TLS_CA_FILE', value: tls.caChain, public: true, file: true });
  if (tls.cert) list.push({ key: 'CI_SERVER_TLS_CERT_FILE', value: tls.cert, public: true, file: true });
  if (tls.key) list.push({ key: 'CI_SERVER_TLS_KEY_FILE', value: tls.key, public: false, file: true });
  return list;
}

// gitlab-runner falls back to 2 hours when GitLab sends no usable timeout.
function jobTimeoutSeconds(job: JobPayload): number {
  const timeout = job.runner_info.timeout;
  return Number.isInteger(timeout) && timeout > 0 ? timeout : DEFAULT_JOB_TIMEOUT_SECONDS;
}

// Node's arch names in Go's spelling, as CI_RUNNER_EXECUTABLE_ARCH uses them.
function goArch(nodeArch: string): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  return names[nodeArch] ?? nodeArch;
}
