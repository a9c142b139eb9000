// The GIT_* job variables that shape get_sources, read after expansion (job-execution §3.1).
import { TartError } from '../errors.js';
import type { JobPayload, JobVariable } from './payload.js';
import { getVariable, isTruthy } from './variables.js';

export type GitStrategy = 'clone' | 'fetch' | 'none' | 'empty';
export type SubmoduleStrategy = 'none' | 'normal' | 'recursive';

export interface GitSettings {
  strategy: GitStrategy;
  checkout: boolean;
  /** Arguments for `git clean`; empty: no clean (GIT_CLEAN_FLAGS=none). */
  cleanFlags: string[];
  fetchExtraFlags: string[];
  submoduleStrategy: SubmoduleStrategy;
  submodulePaths: string[];
  submoduleDepth: number;
  submoduleUpdateFlags: string[];
  /** GIT_SUBMODULE_FORCE_HTTPS: SSH submodule URLs on the GitLab host are fetched over HTTP(S). */
  submoduleForceHttps: boolean;
  lfsSkipSmudge: boolean;
  depth: number;
  /** Messages for invalid settings that fell back to a default (printed as warnings). */
  warnings: string[];
}

/** Reads the settings; an invalid submodule strategy or paths setting is a configuration error. */
export function readGitSettings(job: JobPayload, variables: JobVariable[]): GitSettings {
  const warnings: string[] = [];
  const get = (key: string): string | undefined => {
    const value = getVariable(variables, key);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const depth = readDepth(get('GIT_DEPTH'), job.git_info.depth);
  const strategy = readStrategy(get('GIT_STRATEGY'), job.allow_git_fetch === true, warnings);
  const skipGit = strategy === 'none' || strategy === 'empty';
  return {
    strategy,
    checkout: !skipGit && !isFalsy(get('GIT_CHECKOUT')),
    cleanFlags: flagList(get('GIT_CLEAN_FLAGS'), ['-ffdx']),
    fetchExtraFlags: flagList(get('GIT_FETCH_EXTRA_FLAGS'), ['--prune', '--quiet']),
    submoduleStrategy: skipGit ? 'none' : readSubmoduleStrategy(get('GIT_SUBMODULE_STRATEGY')),
    submodulePaths: readSubmodulePaths(get('GIT_SUBMODULE_PATHS')),
    submoduleDepth: readDepth(get('GIT_SUBMODULE_DEPTH'), depth),
    submoduleUpdateFlags: flagList(get('GIT_SUBMODULE_UPDATE_FLAGS'), []),
    submoduleForceHttps: isTruthy(get('GIT_SUBMODULE_FORCE_HTTPS')),
    lfsSkipSmudge: isTruthy(get('GIT_LFS_SKIP_SMUDGE')),
    depth,
    warnings,
  };
}

// GIT_STRATEGY, defaulting to fetch when the project allows it (an invalid value warns).
function readStrategy(value: string | undefined, allowFetch: boolean, warnings: string[]): GitStrategy {
  const fallback: GitStrategy = allowFetch ? 'fetch' : 'clone';
  if (value === undefined) return fallback;
  if (value === 'clone' || value === 'fetch' || value === 'none' || value === 'empty') return value;
  warnings.push(`GIT_STRATEGY: invalid value ${JSON.stringify(value)}, using default value: ${fallback}`);
  return fallback;
}

function readSubmoduleStrategy(value: string | undefined): SubmoduleStrategy {
  if (value === undefined || value === 'none' || value === 'normal' || value === 'recursive')
    return value ?? 'none';
  throw new TartError(
    'INVALID_GIT_SUBMODULE_STRATEGY',
    `unknown GIT_SUBMODULE_STRATEGY: ${JSON.stringify(value)}`,
  );
}

// Whitespace-split pathspecs; a lone `:(exclude)` would silently exclude nothing, so it is refused.
function readSubmodulePaths(value: string | undefined): string[] {
  const paths = flagList(value, []);
  if (paths.some((path) => path === ':(exclude)')) {
    throw new TartError(
      'INVALID_GIT_SUBMODULE_PATHS',
      `GIT_SUBMODULE_PATHS: invalid submodule pathspec ":(exclude)" (write ":(exclude)path" without a space)`,
    );
  }
  return paths;
}

// Whitespace-split flags; "none" means no flags, unset means the defaults.
function flagList(value: string | undefined, defaults: string[]): string[] {
  if (value === undefined) return defaults;
  if (value === 'none') return [];
  return value.split(/\s+/).filter((flag) => flag !== '');
}

// An integer depth; anything else keeps the fallback.
function readDepth(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return fallback;
  return Number.parseInt(value, 10);
}

function isFalsy(value: string | undefined): boolean {
  return value !== undefined && ['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value);
}
