// The only importer of node:child_process. Long-lived children (VMMs, shells, git http-backend)
// start through spawnChild; short tools run through run.ts, built on the same call. Tests
// replace `processSeam.spawn` here, in one place, to see or script every spawn in src/.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type { ChildProcess, SpawnOptions };

export type Spawner = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const processSeam: { spawn: Spawner } = {
  spawn: (command, args, options) => nodeSpawn(command, args, options),
};

/** Starts a child process (no shell). */
export const spawnChild: Spawner = (command, args, options) => processSeam.spawn(command, args, options);
