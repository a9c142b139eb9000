// The Firecracker (or jailer) process, spawned through the shared VMM seam (src/vmm/spawn.ts), and
// the small state machine around it: spawned → exited, with its exit observable as a promise.
import type { ChildProcess } from '../../process/spawn.js';
import { TartError } from '../../errors.js';
import type { SpawnVmm } from '../spawn.js';
import type { VmExit } from '../types.js';

export interface VmmProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<VmExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
}

/** Spawns and waits for the OS to confirm the spawn (ENOENT becomes FIRECRACKER_NOT_FOUND). */
export function startVmmProcess(
  spawner: SpawnVmm,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<VmmProcess> {
  return new Promise((resolve, reject) => {
    // The seam ignores stdin: nothing may reach the guest's serial console from us.
    const child = spawner(command, args, { env });
    let exitState: VmExit | undefined;
    const exited = new Promise<VmExit>((resolveExit) => {
      // 'close', not 'exit': the console pipes are drained by then.
      child.once('close', (code, signal) => {
        exitState = { code, signal };
        resolveExit(exitState);
      });
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' ? 'FIRECRACKER_NOT_FOUND' : 'FIRECRACKER_SPAWN_FAILED';
      reject(
        new TartError(code, `cannot start ${command}: ${error.message}`, {
          cause: error,
          details: { command, errno: error.code },
        }),
      );
    });
    child.once('spawn', () =>
      resolve({ child, pid: child.pid ?? -1, exited, hasExited: () => exitState !== undefined }),
    );
  });
}
