// The one seam through which VMM processes are started (src/process's spawner underneath).
import { spawnChild, type Spawner } from '../process/spawn.js';

export type SpawnVmm = Spawner;

/** VMMs never get a terminal on stdin: a background QEMU with a TTY stdin stops on SIGTTIN. */
export const spawnVmm: SpawnVmm = (command, args, options) => spawnChild(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
