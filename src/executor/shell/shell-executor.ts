// The shell executor: runs every stage as a plain `bash` on the runner's own host, as the
// runner's user. Useful for development and trusted jobs; it isolates nothing.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Executor, JobEnvironment, PrepareOptions } from '../types.js';
import { cleanJobEnvironment } from './clean-env.js';
import { ShellEnvironment } from './shell-environment.js';
import { spawnProcess, type SpawnProcess } from './spawn.js';

export interface ShellExecutorOptions {
  /** Host builds dir (config `builds_dir`); default `<cwd>/builds`. Relative paths resolve against cwd. */
  buildsDir?: string;
  spawn?: SpawnProcess;
  /** Base environment of every command; default the clean subset of the runner's (clean-env.ts). */
  baseEnv?: NodeJS.ProcessEnv;
  /** SIGTERM → SIGKILL grace for an aborted command; default 1000 ms. */
  killGraceMs?: number;
  /** Wait for a finished command's output pipes to close; default 2000 ms. */
  outputDrainMs?: number;
}

export class ShellExecutor implements Executor {
  readonly name = 'shell';
  readonly #options: ShellExecutorOptions;

  constructor(options: ShellExecutorOptions = {}) {
    this.#options = options;
  }

  async prepare(options: PrepareOptions): Promise<JobEnvironment> {
    options.signal.throwIfAborted();
    const buildsDir = resolve(this.#options.buildsDir ?? 'builds');
    await mkdir(buildsDir, { recursive: true });
    options.log('Using Shell (bash) executor...');
    return new ShellEnvironment({
      buildsDir,
      spawn: this.#options.spawn ?? spawnProcess,
      baseEnv: this.#options.baseEnv ?? cleanJobEnvironment(),
      killGraceMs: this.#options.killGraceMs ?? 1000,
      outputDrainMs: this.#options.outputDrainMs ?? 2000,
    });
  }
}
