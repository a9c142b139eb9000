// The one seam through which the image build runs external commands (apt, dpkg-deb, mmdebstrap,
// mkfs.ext4, lz4 …). Tests replace it with a table of canned results.
import { TartError, UserError } from '../errors.js';
import { runCollect } from '../process/run.js';

export interface CommandRequest {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin (stdin is 'ignore' otherwise). */
  input?: Buffer | string;
  signal?: AbortSignal;
}

export interface CommandResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs one command to completion; never throws for a non-zero exit (see `runChecked`). */
export type CommandRunner = (request: CommandRequest) => Promise<CommandResult>;

/** The real runner: src/process's collect-output runner; stderr as text. */
export const spawnCommand: CommandRunner = (request) =>
  runCollect(request).then(
    (result) => ({
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr.toString('utf8'),
    }),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new UserError('IMAGE_TOOL_MISSING', `${request.command} is not installed`, { cause: error });
      throw new TartError('IMAGE_COMMAND_FAILED', `cannot run ${request.command}: ${error.message}`, {
        cause: error,
      });
    },
  );

/** Runs a command and throws IMAGE_COMMAND_FAILED (with the stderr tail) on a non-zero exit. */
export async function runChecked(run: CommandRunner, request: CommandRequest): Promise<CommandResult> {
  const result = await run(request);
  if (result.exitCode !== 0) {
    const tail = result.stderr.trim().split('\n').slice(-15).join('\n');
    throw new TartError(
      'IMAGE_COMMAND_FAILED',
      `${request.command} ${request.args.slice(0, 3).join(' ')} … exited with ${result.exitCode}: ${tail}`,
      { details: { command: request.command, exitCode: result.exitCode } },
    );
  }
  return result;
}
