// The only importer of node:child_process. Long-lived children (VMMs, shells, git http-backend)
// start through spawnChild; short tools run through run.ts, built on the same call. Tests
// replace `processSeam.spawn` here, in one place, to see or script every spawn in src/.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { withoutInheritedCapabilities } from './capabilities.js';

export type { ChildProcess, SpawnOptions };

export type Spawner = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const processSeam: { spawn: Spawner } = {
  spawn: (command, args, options) => nodeSpawn(command, args, options),
};

/**
 * Starts a child process (no shell) with none of this process's ambient capabilities: a VMM, a
 * shell job, an image tool parsing a registry's layers never holds what a non-root daemon was
 * given for nftables (capabilities.ts).
 */
export const spawnChild: Spawner = (command, args, options) => {
  const [program, argv] = withoutInheritedCapabilities(command, args);
  return processSeam.spawn(program, argv, options);
};

/** Starts a child that keeps this process's ambient capabilities: only src/net's ip and nft. */
export const spawnCapableChild: Spawner = (command, args, options) => processSeam.spawn(command, args, options);
