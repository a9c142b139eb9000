// The pooled VMs under a runtime root, read from their handles (for `tart doctor`).
import { listRuntimeDirs, readState } from '../runtime-dir.js';
import type { VmHandle } from '../vm-handle.js';
import { processRuns } from '../../../process/liveness.js';

export interface PooledVmOnHost {
  vmId: string;
  state: 'idle' | 'in-use';
  ownerAlive: boolean;
}

export async function listPooledVms(runtimeRoot: string): Promise<PooledVmOnHost[]> {
  const found: PooledVmOnHost[] = [];
  for (const dir of await listRuntimeDirs(runtimeRoot)) {
    const state = (await readState(dir)) as Partial<VmHandle> | undefined;
    if (!state?.pool || !state.vmId || !state.runnerPid) continue;
    found.push({ vmId: state.vmId, state: state.pool.state, ownerAlive: processRuns(state.runnerPid) });
  }
  return found;
}
