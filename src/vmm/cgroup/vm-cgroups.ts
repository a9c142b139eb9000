// A cgroup v2 per VM, under the Tart parent cgroup (`<cgroup2 root>/tart/<vm id>`), holding its
// VMM process with memory.max (the guest's memory plus the VMM's own) and cpu.max (its vCPUs).
// Where the host lacks the controllers, VMs run without these limits: said once in the log, and
// by `tart doctor`.
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { TartError } from '../../errors.js';
import { realCgroupFs, type CgroupFs } from './cgroup-fs.js';
import { detectCgroupSupport, REQUIRED_CONTROLLERS, type CgroupSupport } from './cgroup-support.js';

/** What QEMU needs beyond the guest's RAM: its own heap, device state, I/O buffers. */
export const VMM_MEMORY_OVERHEAD_MB = 256;
/** QEMU 7.2 sizes TCG's translation buffer to host RAM / 8, at most 1 GiB (anonymous memory). */
const TCG_CODE_BUFFER_MAX_MB = 1024;
/** cpu.max's period, in µs: each vCPU may use one whole period. */
const CPU_PERIOD_US = 100_000;

export interface VmLimits {
  memoryMb: number;
  vcpus: number;
  /** Under TCG the translation buffer comes on top. */
  accel: 'kvm' | 'tcg';
}

/** The control-file values for `limits`. */
export function cgroupLimitsFor(limits: VmLimits, hostMemoryBytes = totalmem()): { memoryMax: string; cpuMax: string } {
  const codeBufferMb = limits.accel === 'tcg' ? Math.min(TCG_CODE_BUFFER_MAX_MB, Math.floor(hostMemoryBytes / 8 / 2 ** 20)) : 0;
  const memoryMb = limits.memoryMb + VMM_MEMORY_OVERHEAD_MB + codeBufferMb;
  return { memoryMax: String(memoryMb * 2 ** 20), cpuMax: `${limits.vcpus * CPU_PERIOD_US} ${CPU_PERIOD_US}` };
}

export interface VmCgroup {
  path: string;
  /** Removes the cgroup once the VMM has exited (retries while the kernel still counts it). */
  remove(): Promise<void>;
}

export interface VmCgroupsOptions {
  fs?: CgroupFs;
  mountinfoPath?: string;
  hostMemoryBytes?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export class VmCgroups {
  private readonly fs: CgroupFs;
  private prepared: Promise<CgroupSupport> | undefined;
  private warned = false;
  private log: VmCgroupsOptions['log'];

  constructor(private readonly options: VmCgroupsOptions = {}) {
    this.fs = options.fs ?? realCgroupFs;
    this.log = options.log;
  }

  /** Where its lines go, when it was made without (the first log handed to sharedVmCgroups). */
  adoptLog(log: VmCgroupsOptions['log']): void {
    this.log ??= log;
  }

  /** Detected once; a host whose Tart parent cannot be made counts as without limits. */
  support(): Promise<CgroupSupport> {
    this.prepared ??= detectCgroupSupport(this.fs, this.options.mountinfoPath).then((support) =>
      support.available ? this.prepareParent(support) : support,
    );
    return this.prepared;
  }

  /**
   * Puts `pid` in a new cgroup for `vmId` with `limits`. Undefined where the host has no such
   * limits (logged once); a failure on a host that has them fails the VM.
   */
  async place(vmId: string, pid: number, limits: VmLimits): Promise<VmCgroup | undefined> {
    const support = await this.support();
    if (!support.available) {
      if (!this.warned) {
        this.warned = true;
        this.log?.(`cgroup limits: not available (${support.reason}); VMs run without CPU and memory limits`, {
          controllers: support.controllers.join(' '),
        });
      }
      return undefined;
    }
    const path = join(support.parent, cgroupName(vmId));
    const { memoryMax, cpuMax } = cgroupLimitsFor(limits, this.options.hostMemoryBytes);
    const cgroup: VmCgroup = { path, remove: () => this.remove(path) };
    try {
      await this.fs.mkdir(path);
      await this.fs.write(join(path, 'memory.max'), memoryMax);
      await this.fs.write(join(path, 'cpu.max'), cpuMax);
      await this.fs.write(join(path, 'cgroup.procs'), String(pid));
    } catch (cause) {
      await this.fs.rmdir(path).catch(() => undefined);
      throw new TartError('VM_CGROUP_FAILED', `cannot limit VM ${vmId} in cgroup ${path}: ${(cause as Error).message}`, { cause });
    }
    return cgroup;
  }

  /** Removes the cgroup a VM of a killed daemon left (the reaper's part); nothing where there are none. */
  async forget(vmId: string): Promise<void> {
    const support = await this.support();
    if (support.available) await this.remove(join(support.parent, cgroupName(vmId)));
  }

  // The parent gets the controllers for its children: the root's subtree_control first.
  private async prepareParent(support: CgroupSupport & { available: true }): Promise<CgroupSupport> {
    const enable = REQUIRED_CONTROLLERS.map((name) => `+${name}`).join(' ');
    try {
      const rootEnabled = ((await this.fs.read(join(support.mount, 'cgroup.subtree_control'))) ?? '').split(/\s+/);
      if (!REQUIRED_CONTROLLERS.every((name) => rootEnabled.includes(name))) {
        await this.fs.write(join(support.mount, 'cgroup.subtree_control'), enable);
      }
      await this.fs.mkdir(support.parent);
      await this.fs.write(join(support.parent, 'cgroup.subtree_control'), enable);
      return support;
    } catch (error) {
      return {
        available: false,
        mount: support.mount,
        controllers: support.controllers,
        reason: `cannot prepare ${support.parent}: ${(error as Error).message}`,
      };
    }
  }

  private async remove(path: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.fs.rmdir(path);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || attempt >= 50) {
          this.log?.(`cannot remove VM cgroup ${path}: ${(error as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

// A VM id as a cgroup name: never a path out of the parent.
function cgroupName(vmId: string): string {
  return vmId.replace(/[^\w.-]/g, '_');
}

let shared: VmCgroups | undefined;

/** The process's one VmCgroups (detection and its log line happen once per process). */
export function sharedVmCgroups(log?: VmCgroupsOptions['log']): VmCgroups {
  shared ??= new VmCgroups();
  shared.adoptLog(log);
  return shared;
}
