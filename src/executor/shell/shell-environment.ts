// One job's environment on the host: commands run as the runner's own user, in its own
// process group, with the builds dir as default working directory. No isolation at all.
import { constants } from 'node:os';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TartError } from '../../errors.js';
import type { ExecOptions, ExecResult, JobEnvironment } from '../types.js';
import { groupMembers, signalGroup } from '../../process/process-group.js';
import type { ChildProcess } from '../../process/spawn.js';
import type { SpawnProcess } from './spawn.js';

export interface ShellEnvironmentOptions {
  buildsDir: string;
  spawn: SpawnProcess;
  /** Base environment of every command (the runner's own, by default). */
  baseEnv: NodeJS.ProcessEnv;
  /** Time between SIGTERM and SIGKILL when a command is aborted. */
  killGraceMs: number;
  /** How long to wait for stdout/stderr to close after the command exited (a background child may hold them). */
  outputDrainMs: number;
}

export class ShellEnvironment implements JobEnvironment {
  readonly executorName = 'shell';
  readonly disposable = false;
  readonly buildsDir: string;
  readonly #options: ShellEnvironmentOptions;
  /** Groups of every command run, so close() can kill what they left behind. */
  readonly #groups = new Set<number>();

  constructor(options: ShellEnvironmentOptions) {
    this.buildsDir = options.buildsDir;
    this.#options = options;
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    const [command, ...args] = options.command;
    if (command === undefined) throw new TartError('EXEC_INVALID', 'exec needs a command');
    options.signal?.throwIfAborted();
    const child = this.#options.spawn(command, args, {
      cwd: options.cwd ?? this.buildsDir,
      env: { ...this.#options.baseEnv, ...options.env },
      detached: true,
      stdio: [
        options.stdin === undefined ? 'ignore' : 'pipe',
        options.stdout ? 'pipe' : 'ignore',
        options.stderr ? 'pipe' : 'ignore',
      ],
    });
    if (child.pid !== undefined) this.#groups.add(child.pid);
    return this.#supervise(child, options);
  }

  /** Kills every process any command left behind. */
  async close(): Promise<void> {
    for (const pgid of this.#groups) {
      if (groupMembers(pgid).length > 0) signalGroup(pgid, 'SIGKILL');
    }
    this.#groups.clear();
  }

  // Wires stdio, and settles once the command exited and its output was handed on.
  #supervise(child: ChildProcess, options: ExecOptions): Promise<ExecResult> {
    const { killGraceMs, outputDrainMs } = this.#options;
    return new Promise<ExecResult>((resolve, reject) => {
      let inputError: unknown;
      const timers: NodeJS.Timeout[] = [];
      const kill = (): void => {
        if (child.pid === undefined) return;
        signalGroup(child.pid, 'SIGTERM');
        const pid = child.pid;
        timers.push(setTimeout(() => signalGroup(pid, 'SIGKILL'), killGraceMs));
      };
      const onAbort = (): void => kill();
      const cleanup = (): void => {
        options.signal?.removeEventListener('abort', onAbort);
        for (const timer of timers) clearTimeout(timer);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });

      feedStdin(child, options.stdin).catch((error: unknown) => {
        inputError = error;
        kill();
      });
      forward(child.stdout, options.stdout);
      forward(child.stderr, options.stderr);

      child.once('error', (error) => {
        cleanup();
        reject(
          new TartError('EXEC_FAILED', `cannot run ${options.command[0]}: ${error.message}`, {
            cause: error,
          }),
        );
      });
      // A background process may keep the pipes open; stop waiting for it after a while.
      child.once('exit', () => {
        const drainMs = options.signal?.aborted ? Math.min(outputDrainMs, 200) : outputDrainMs;
        timers.push(setTimeout(() => destroyOutputs(child), drainMs));
      });
      child.once('close', (code, signal) => {
        cleanup();
        if (options.signal?.aborted) reject(options.signal.reason);
        else if (inputError !== undefined)
          reject(
            new TartError(
              'EXEC_STDIN_FAILED',
              `stdin of ${options.command[0]} failed: ${(inputError as Error).message ?? String(inputError)}`,
              { cause: inputError },
            ),
          );
        else resolve({ exitCode: exitCodeOf(code, signal) });
      });
    });
  }
}

// Feeds stdin and ends it; the command exiting before reading everything is not an error.
async function feedStdin(child: ChildProcess, stdin: ExecOptions['stdin']): Promise<void> {
  if (stdin === undefined || child.stdin === null) return;
  const source =
    typeof stdin === 'string' || Buffer.isBuffer(stdin) ? Readable.from([Buffer.from(stdin)]) : stdin;
  try {
    await pipeline(source, child.stdin);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw error;
  }
}

// Copies a command's output into the caller's stream without ever ending it.
function forward(from: Readable | null, to: Writable | undefined): void {
  if (from === null || to === undefined) return;
  from.pipe(to, { end: false });
}

function destroyOutputs(child: ChildProcess): void {
  child.stdout?.destroy();
  child.stderr?.destroy();
}

// 128+N for a command killed by signal N, as a shell reports it.
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}
