// At daemon start: VMs, disks and sockets left by a runner that was killed are removed.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { VmCgroups } from '../../vmm/cgroup/vm-cgroups.js';
import { QEMU_OWNED_DIR } from '../../vmm/qemu/qemu-owner.js';
import { listRuntimeDirs, readState, removeRuntimeDir } from './runtime-dir.js';
import { processRuns } from '../../process/liveness.js';

export interface ReapResult {
  reaped: string[];
  killedPids: number[];
}

/** Kills the VMM of every runtime dir whose runner process is gone, and removes the dir (and its VM's cgroup). */
export async function reapOrphans(options: {
  runtimeRoot: string;
  isAlive?: (pid: number) => boolean;
  cgroups?: Pick<VmCgroups, 'forget'>;
}): Promise<ReapResult> {
  const isAlive = options.isAlive ?? processRuns;
  const result: ReapResult = { reaped: [], killedPids: [] };
  for (const dir of await listRuntimeDirs(options.runtimeRoot)) {
    const state = await readState(dir);
    if (state && state.runnerPid !== process.pid && isAlive(state.runnerPid)) continue;
    if (state && state.runnerPid === process.pid) continue;
    const vmmPid =
      state?.vmmPid ??
      (await pidFromFile(`${dir}/qemu.pid`)) ??
      (await pidFromFile(`${dir}/${QEMU_OWNED_DIR}/qemu.pid`));
    if (vmmPid && isAlive(vmmPid) && (await isVmmProcess(vmmPid, dir))) {
      try {
        process.kill(vmmPid, 'SIGKILL');
        result.killedPids.push(vmmPid);
      } catch {
        // Already gone.
      }
    }
    await removeRuntimeDir(dir);
    // The runtime dir is named by the VM id, as its cgroup is.
    await options.cgroups?.forget(basename(dir));
    result.reaped.push(dir);
  }
  return result;
}

async function pidFromFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

// A recycled pid must not be killed: the VMM's command line names files in its runtime dir.
// procfs is read synchronously: a promise-based read of /proc was seen never to settle on Node 20.
async function isVmmProcess(pid: number, dir: string): Promise<boolean> {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}
