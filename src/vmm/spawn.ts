// The one seam through which VMM processes are started (src/process's spawner underneath).
import { withoutInheritedCapabilities } from '../process/capabilities.js';
import { spawnChild, type Spawner } from '../process/spawn.js';

export type SpawnVmm = Spawner;

/**
 * VMMs never get a terminal on stdin: a background QEMU with a TTY stdin stops on SIGTTIN. Stdio
 * entries from index 3 on (descriptors the VMM inherits, e.g. passed disks) are kept. A VMM never
 * inherits the daemon's ambient capabilities (src/process/capabilities.ts).
 */
export const spawnVmm: SpawnVmm = (command, args, options) => {
  const inherited = Array.isArray(options.stdio) ? options.stdio.slice(3) : [];
  const [program, argv] = withoutInheritedCapabilities(command, args);
  return spawnChild(program, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe', ...inherited] });
};
