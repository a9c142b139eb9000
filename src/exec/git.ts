// The one seam through which `tart exec` runs git for its output (repository facts, snapshots).
import { TartError } from '../errors.js';
import { runCollect } from '../process/run.js';

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
    async run({ args, cwd, env }) {
      const failed = (detail: string, cause?: unknown): TartError =>
        new TartError('GIT_FAILED', `git ${args[0] ?? ''} failed: ${detail}`, { cause, details: { args } });
      let result;
      try {
        result = await runCollect({ command: 'git', args, cwd, env: { ...process.env, ...env } });
      } catch (error) {
        throw failed((error as Error).message, error);
      }
      const stderr = result.stderr.toString('utf8').trim();
      if (result.exitCode !== 0) throw failed(stderr || `Command failed: git ${args.join(' ')}`);
      return result.stdout.toString('utf8');
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
