// The collect-output runner for short tools (git, ip, nft, mkfs, `--version` probes): one command
// to completion, stdout and stderr collected, never a throw for a non-zero exit.
import { spawnCapableChild, spawnChild } from './spawn.js';

export interface RunRequest {
  command: string;
  args: readonly string[];
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin (stdin is 'ignore' otherwise). */
  input?: Buffer | string;
  signal?: AbortSignal;
  /** SIGTERM the command after this long. */
  timeoutMs?: number;
  /** Keeps this process's ambient capabilities (src/net's ip and nft only; capabilities.ts). */
  keepCapabilities?: boolean;
}

export interface RunResult {
  /** The exit status; 128 when a signal ended it, 1 when neither is known. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs one command; rejects only when it could not be started (the spawn error, e.g. ENOENT). */
export function runCollect(request: RunRequest): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = (request.keepCapabilities ? spawnCapableChild : spawnChild)(request.command, request.args, {
      cwd: request.cwd,
      env: request.env ?? process.env,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      signal: request.signal,
      ...(request.timeoutMs === undefined ? {} : { timeout: request.timeoutMs }),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode, signal) =>
      resolve({
        exitCode: exitCode ?? (signal ? 128 : 1),
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr),
      }),
    );
    // A child that exits without reading its input (a missing netns for `ip netns exec … nft -f -`)
    // makes the write fail with EPIPE: its exit code already says what went wrong.
    child.stdin?.on('error', () => undefined);
    if (request.input !== undefined) child.stdin?.end(request.input);
  });
}
