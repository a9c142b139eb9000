// Whether each VM's QEMU gets cgroup v2 CPU and memory limits on this host (src/vmm/cgroup), as
// `tart doctor` reports it: the detection the daemon makes, read-only.
import type { TartConfig } from '../config/types.js';
import { REQUIRED_CONTROLLERS, type CgroupSupport } from '../vmm/cgroup/cgroup-support.js';
import type { CheckResult } from './types.js';

export function judgeCgroups(config: TartConfig | undefined, support: CgroupSupport | undefined, uid: number): CheckResult {
  const qemu = (config?.runners ?? []).filter((runner) => runner.executor === 'qemu');
  // With no config the checks assume the qemu executor (checkConfig's hint).
  const needed = config === undefined || qemu.length > 0;
  if (!support) return { name: 'cgroups', verdict: 'warn', fact: 'cgroup limits: unknown (not checked)' };
  if (!support.available) {
    const controllers = support.controllers.join(' ') || 'none';
    return {
      name: 'cgroups',
      verdict: needed ? 'warn' : 'ok',
      fact: support.mount
        ? `cgroup limits: not available (controllers: ${controllers} at ${support.mount}; per-VM limits need ${REQUIRED_CONTROLLERS.join(' and ')}): VMs run without CPU and memory limits`
        : `cgroup limits: not available (${support.reason}): VMs run without CPU and memory limits`,
      ...(needed
        ? { fix: 'boot with cgroup v2 only (systemd.unified_cgroup_hierarchy=1), whose root offers the cpu and memory controllers' }
        : {}),
    };
  }
  const fact = `cgroup limits: each QEMU in ${support.parent}/<vm> with memory.max (memory_mb + QEMU overhead) and cpu.max (vcpus)`;
  if (uid !== 0) {
    return { name: 'cgroups', verdict: needed ? 'warn' : 'ok', fact: `${fact}, but only as root (tart runs as uid ${uid})`, ...(needed ? { fix: 'run tart as root (the packaged unit does)' } : {}) };
  }
  return { name: 'cgroups', verdict: 'ok', fact };
}
