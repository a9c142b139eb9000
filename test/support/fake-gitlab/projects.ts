// Facts the fake needs from the bare repositories it serves, read with the git CLI.
// Synchronous on purpose: enqueueJob stays a plain call, and each git call takes milliseconds.
import { execFileSync } from 'node:child_process';

const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

function git(bareDir: string, args: string[]): string {
  return execFileSync('git', ['--git-dir', bareDir, ...args], {
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** The commit a branch or tag name points at, and which of the two it is. */
export function resolveRef(bareDir: string, ref: string): { sha: string; refType: 'branch' | 'tag' } {
  for (const [prefix, refType] of [
    ['refs/heads/', 'branch'],
    ['refs/tags/', 'tag'],
  ] as const) {
    try {
      return { sha: git(bareDir, ['rev-parse', '--verify', '--quiet', `${prefix}${ref}^{commit}`]), refType };
    } catch {
      // not this kind of ref; try the next
    }
  }
  throw new Error(`ref ${ref} not found in ${bareDir}`);
}

/** The parent of a commit, or the all-zero sha for a root commit (GitLab's before_sha for new refs). */
export function parentOf(bareDir: string, sha: string): string {
  try {
    return git(bareDir, ['rev-parse', '--verify', '--quiet', `${sha}^`]);
  } catch {
    return '0'.repeat(40);
  }
}

/** The branch HEAD points at: the project's default branch. */
export function defaultBranch(bareDir: string): string {
  return git(bareDir, ['symbolic-ref', '--short', 'HEAD']);
}

/** GitLab keeps refs/pipelines/<id> at the pipeline's commit; every refspec list starts with it (§3.3). */
export function createPipelineRef(bareDir: string, pipelineId: number, sha: string): void {
  git(bareDir, ['update-ref', `refs/pipelines/${pipelineId}`, sha]);
}
