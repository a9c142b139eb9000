// The one seam through which the Firecracker (or jailer) process is spawned, and the small
// state machine around it: spawned → exited, with its exit observable as a promise.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { TartError } from '../../errors.js';
import type { VmExit } from './vm-types.js';

export type ProcessSpawner = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export const spawnProcess: ProcessSpawner = (command, args, options) => nodeSpawn(command, args, options);

export interface VmmProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<VmExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
}

/** Spawns and waits for the OS to confirm the spawn (ENOENT becomes FIRECRACKER_NOT_FOUND). */
export function startVmmProcess(
  spawner: ProcessSpawner,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<VmmProcess> {
  return new Promise((resolve, reject) => {
    // stdin ignored: nothing may reach the guest's serial console from us.
    const child = spawner(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: false });
    let exitState: VmExit | undefined;
    const exited = new Promise<VmExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        exitState = { code, signal };
        resolveExit(exitState);
      });
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' ? 'FIRECRACKER_NOT_FOUND' : 'FIRECRACKER_SPAWN_FAILED';
      reject(new TartError(code, `cannot start ${command}: ${error.message}`, { cause: error, details: { command, errno: error.code } }));
    });
    child.once('spawn', () =>
      resolve({ child, pid: child.pid ?? -1, exited, hasExited: () => exitState !== undefined }),
    );
  });
}
