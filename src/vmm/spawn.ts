// The one seam through which VMM processes are started.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type SpawnVmm = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** VMMs never get a terminal on stdin: a background QEMU with a TTY stdin stops on SIGTTIN. */
export const spawnVmm: SpawnVmm = (command, args, options) => spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
