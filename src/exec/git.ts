// The one seam through which `tart exec` runs git for its output (repository facts, snapshots).
import { execFile } from 'node:child_process';
import { TartError } from '../errors.js';

export interface GitCommand {
  args: string[];
  cwd: string;
  /** Added to the process environment. */
  env?: Record<string, string>;
}

export interface GitRunner {
  /** Runs git and resolves with stdout; rejects with GIT_FAILED (stderr in the message). */
  run(command: GitCommand): Promise<string>;
}

export function createGitRunner(): GitRunner {
  return {
    run({ args, cwd, env }) {
      return new Promise((resolve, reject) => {
        execFile(
          'git',
          args,
          { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
          (error, stdout, stderr) => {
            if (error)
              reject(
                new TartError(
                  'GIT_FAILED',
                  `git ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`,
                  { cause: error, details: { args } },
                ),
              );
            else resolve(stdout);
          },
        );
      });
    },
  };
}

/** Like run, but resolves undefined instead of rejecting (for questions whose answer may be "none"). */
export async function tryGit(git: GitRunner, command: GitCommand): Promise<string | undefined> {
  try {
    return (await git.run(command)).trim();
  } catch {
    return undefined;
  }
}
