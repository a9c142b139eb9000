// The one seam through which VMM processes are started (src/process's spawner underneath).
import { spawnChild, type Spawner } from '../process/spawn.js';

export type SpawnVmm = Spawner;

/**
 * VMMs never get a terminal on stdin: a background QEMU with a TTY stdin stops on SIGTTIN. Stdio
 * entries from index 3 on (descriptors the VMM inherits, e.g. passed disks) are kept.
 */
export const spawnVmm: SpawnVmm = (command, args, options) => {
  const inherited = Array.isArray(options.stdio) ? options.stdio.slice(3) : [];
  return spawnChild(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe', ...inherited] });
};
