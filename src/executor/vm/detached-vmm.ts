// Stopping a VMM this process did not start, from its handle: ask it to quit over its control
// socket, then SIGKILL it once the grace is over. A recycled pid is never touched: the process
// must still name the VM's runtime dir on its command line (as the reaper checks).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { qmpExecute } from '../../vmm/qemu/qmp.js';
import type { VmHandle } from './vm-handle.js';

/** Resolves once the handle's VMM process is gone. Never throws. */
export async function stopDetachedVmm(handle: VmHandle, options: { graceMs: number }): Promise<void> {
  if (!isTheVmm(handle)) return;
  if (handle.sockets.qmp)
    await qmpExecute(handle.sockets.qmp, 'quit', Math.min(options.graceMs, 2000)).catch(() => undefined);
  if (await exitsWithin(handle, options.graceMs)) return;
  try {
    process.kill(handle.vmmPid, 'SIGKILL');
  } catch {
    return; // Already gone.
  }
  await exitsWithin(handle, 10_000);
}

/** True while the handle's VMM pid is alive and still the VMM of this VM. */
export function isTheVmm(handle: Pick<VmHandle, 'vmmPid' | 'runtimeDir'>): boolean {
  try {
    // procfs is read synchronously: a promise-based read of /proc was seen never to settle on Node 20.
    return readFileSync(`/proc/${handle.vmmPid}/cmdline`, 'utf8').includes(handle.runtimeDir);
  } catch {
    return false;
  }
}

async function exitsWithin(handle: VmHandle, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isTheVmm(handle)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}
