// The shell executor's spawn seam: src/process's spawner, replaceable per executor in tests. A
// job's process never inherits the daemon's ambient capabilities (src/process/capabilities.ts).
import { withoutInheritedCapabilities } from '../../process/capabilities.js';
import { spawnChild, type Spawner } from '../../process/spawn.js';

export type SpawnProcess = Spawner;

export const spawnProcess: SpawnProcess = (command, args, options) => {
  const [program, argv] = withoutInheritedCapabilities(command, args);
  return spawnChild(program, argv, options);
};
