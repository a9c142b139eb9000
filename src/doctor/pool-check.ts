// `tart doctor`'s warm-pool line: what each runner's idle_count asks for, and the pooled VMs on
// this host by state, read from their handles (so it works while a daemon runs, and shows what a
// killed daemon left for the next start to reap).
import type { TartConfig } from '../config/types.js';
import type { CheckResult } from './types.js';

/** A pooled VM as its handle describes it. */
export interface PooledVmFact {
  vmId: string;
  state: 'idle' | 'in-use';
  /** False when the daemon that booted it is gone: the next start reaps it. */
  ownerAlive: boolean;
}

export function judgePool(config: TartConfig | undefined, vms: PooledVmFact[]): CheckResult {
  const pooled = (config?.runners ?? []).filter((runner) => runner.executor !== 'shell' && runner.vm.idleCount > 0);
  const wanted = pooled.map(
    (runner) => `${runner.name || 'runner'} idle_count=${runner.vm.idleCount} idle_time=${runner.vm.idleTime}s`,
  );
  const live = vms.filter((vm) => vm.ownerAlive);
  const orphans = vms.length - live.length;
  const count = (state: PooledVmFact['state']) => live.filter((vm) => vm.state === state).length;
  const onHost =
    vms.length === 0
      ? 'no pooled VMs on this host'
      : `pooled VMs on this host: ${count('idle')} idle, ${count('in-use')} in use` +
        (orphans > 0 ? `, ${orphans} left by a stopped daemon` : '');
  const fact = `${wanted.length > 0 ? wanted.join('; ') : 'no warm pool configured'}; ${onHost}`;
  if (orphans > 0)
    return { name: 'vm-pool', verdict: 'warn', fact, fix: 'the next "tart run" reaps them at start' };
  return { name: 'vm-pool', verdict: 'ok', fact };
}
