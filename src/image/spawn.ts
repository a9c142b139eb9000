// The one seam through which the image build runs external commands (apt, dpkg-deb, mmdebstrap,
// mkfs.ext4, lz4 …). Tests replace it with a table of canned results.
import { spawn } from 'node:child_process';
import { TartError, UserError } from '../errors.js';

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

/** The real runner: spawn without a shell, collect stdout (binary) and stderr (text). */
export const spawnCommand: CommandRunner = (request) =>
  new Promise((resolve, reject) => {
    const child = spawn(request.command, request.args, {
      cwd: request.cwd,
      env: request.env ?? process.env,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      signal: request.signal,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new UserError('IMAGE_TOOL_MISSING', `${request.command} is not installed`, { cause: error }));
      } else {
        reject(
          new TartError('IMAGE_COMMAND_FAILED', `cannot run ${request.command}: ${error.message}`, {
            cause: error,
          }),
        );
      }
    });
    child.on('close', (exitCode, signal) => {
      resolve({
        exitCode: exitCode ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (request.input !== undefined) child.stdin?.end(request.input);
  });

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
