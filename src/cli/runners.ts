// Helpers the runner-management commands share: choosing [[runners]] entries, connecting to their
// GitLab, and turning GitLab failures into messages for the person at the terminal.
import { TartError, UserError } from '../errors.js';
import type { RunnerConfig } from '../config/types.js';
import { tartVersion } from './version.js';

export interface RunnerFilter {
  name?: string;
  url?: string;
  token?: string;
}

/** Runners matching every given criterion (none given = all). */
export function selectRunners(runners: RunnerConfig[], filter: RunnerFilter): RunnerConfig[] {
  return runners.filter(
    (runner) =>
      (filter.name === undefined || runner.name === filter.name) &&
      (filter.url === undefined || sameUrl(runner.url, filter.url)) &&
      (filter.token === undefined || runner.token === filter.token),
  );
}

/** The connection options of src/gitlab for one runner entry. */
export function connectionOf(runner: Pick<RunnerConfig, 'url' | 'tlsCaFile'>): {
  url: string;
  tartVersion: string;
  tls?: { caFile: string };
} {
  return {
    url: runner.url,
    tartVersion: tartVersion(),
    ...(runner.tlsCaFile !== undefined ? { tls: { caFile: runner.tlsCaFile } } : {}),
  };
}

/** An expected GitLab failure (refused token, unreachable host) as a UserError; bugs pass through. */
export function gitLabFailure(error: unknown, action: string): unknown {
  if (!(error instanceof TartError) || error instanceof UserError) return error;
  const hint = error.code === 'RUNNER_FORBIDDEN' ? ' (GitLab does not accept this token)' : '';
  return new UserError(error.code, `${action} failed: ${error.message}${hint}`, { cause: error });
}

// gitlab-runner compares URLs after stripping trailing slashes.
function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
