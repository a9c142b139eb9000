// The shell executor's spawn seam: src/process's spawner, replaceable per executor in tests.
import { spawnChild, type Spawner } from '../../process/spawn.js';

export type SpawnProcess = Spawner;

export const spawnProcess: SpawnProcess = spawnChild;
