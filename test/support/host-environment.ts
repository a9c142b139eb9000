// A JobEnvironment whose commands run as plain host processes in a temp dir: the real `exec`
// seam (real tar, find, git) without a VM, for tests of anything built on exec.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExecOptions, ExecResult, JobEnvironment } from '../../src/executor/types.js';

export interface HostEnvironment extends JobEnvironment {
  /** The temp dir everything lives in; removed by close(). */
  readonly root: string;
  /** How many commands were started, for tests that count round trips. */
  readonly execCount: number;
  /** How many commands are still running (0 after every well-behaved caller). */
  readonly running: number;
}

/** Creates a fresh temp dir and an environment whose builds dir is `<root>/builds`. */
export async function createHostEnvironment(): Promise<HostEnvironment> {
  const root = await mkdtemp(join(tmpdir(), 'tart-hostenv-'));
  let execCount = 0;
  const live = new Set<() => void>();
  return {
    executorName: 'shell',
    buildsDir: join(root, 'builds'),
    disposable: true,
    root,
    get execCount() {
      return execCount;
    },
    get running() {
      return live.size;
    },
    exec(options) {
      execCount += 1;
      return runCommand(root, options, live);
    },
    async close() {
      for (const kill of live) kill();
      await rm(root, { recursive: true, force: true });
    },
  };
}

// Spawns argv in its own process group so an abort kills the whole tree.
function runCommand(root: string, options: ExecOptions, live: Set<() => void>): Promise<ExecResult> {
  const [file, ...args] = options.command;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? root,
      env: { ...process.env, LC_ALL: 'C', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const kill = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    live.add(kill);
    const onAbort = (): void => kill();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    feedStdin(child.stdin, options.stdin);
    const drained = Promise.all([
      forward(child.stdout, options.stdout),
      forward(child.stderr, options.stderr),
    ]);
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      void drained.then(() => {
        live.delete(kill);
        options.signal?.removeEventListener('abort', onAbort);
        if (options.signal?.aborted) reject(options.signal.reason);
        else if (spawnError !== undefined) resolve({ exitCode: 127 });
        else resolve({ exitCode: code ?? 128 + signalNumber(signal) });
      });
    });
  });
}

// Writes stdin (string, Buffer or stream) and closes it; EPIPE from an early exit is ignored.
function feedStdin(stdin: Writable, input: ExecOptions['stdin']): void {
  stdin.on('error', () => undefined);
  if (input === undefined) stdin.end();
  else if (typeof input === 'string' || Buffer.isBuffer(input)) stdin.end(input);
  // As the real environments do: a source that fails, even before this call, ends stdin.
  else pipeline(input, stdin).catch(() => stdin.destroy());
}

// Copies a child's output into `target` without ending it; resolves when the output has ended.
function forward(source: Readable, target: Writable | undefined): Promise<void> {
  return new Promise((resolve) => {
    source.on('end', resolve);
    source.on('error', () => resolve());
    if (target === undefined) source.resume();
    else source.pipe(target, { end: false });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGKILL: 9,
    SIGTERM: 15,
    SIGINT: 2,
    SIGPIPE: 13,
  };
  return (signal !== null ? numbers[signal] : undefined) ?? 1;
}

/** Runs a command in the environment and returns its stdout (tests' shortcut). */
export async function execText(env: JobEnvironment, command: string[], cwd?: string): Promise<string> {
  const chunks: Buffer[] = [];
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const { exitCode } = await env.exec({ command, stdout, cwd });
  if (exitCode !== 0) throw new Error(`${command.join(' ')} exited ${exitCode}`);
  return Buffer.concat(chunks).toString('utf8');
}
