// The VM executor and its factory from [runners.vm] settings; the VM provider and handle.
import { join } from 'node:path';
import type { FirecrackerConfig } from '../../config/types.js';
import { IMAGE_FILES } from '../../image/layout.js';
import { TartError } from '../../errors.js';
import { FirecrackerVmm, firecrackerVmmOptionsFromConfig } from '../../vmm/firecracker/firecracker-vmm.js';
import { QemuVmm } from '../../vmm/qemu/qemu-vmm.js';
import { sharedVmCgroups } from '../../vmm/cgroup/vm-cgroups.js';
import { defaultRuntimeRoot } from './runtime-dir.js';
import { FreshVmProvider } from './fresh-vm-provider.js';
import { PooledVmProvider } from './pool/pooled-vm-provider.js';
import type { GuardedUserNetwork } from './guarded-user-network.js';
import { prepareDefaultImageBoot, type JobImageSettings } from './job-image.js';
import { VmExecutor, type VmExecutorOptions, type VmNetworkProvider } from './vm-executor.js';

export {
  VmExecutor,
  type VmExecutorOptions,
  type VmStartTimings,
  type VmNetworkProvider,
} from './vm-executor.js';
export { FreshVmProvider } from './fresh-vm-provider.js';
export type { AcquiredVm, VmProvider, VmRequest } from './vm-provider.js';
export { readHandle, type VmHandle } from './vm-handle.js';
export { reapOrphans } from './reaper.js';
export { PooledVmProvider, type PoolCounts, type WarmPoolOptions } from './pool/pooled-vm-provider.js';
export { defaultRuntimeRoot } from './runtime-dir.js';

export interface CreateVmExecutorOptions {
  vmm: 'qemu' | 'firecracker';
  /** [runners.firecracker] settings, for vmm = "firecracker". */
  firecracker?: FirecrackerConfig;
  imageDir: string;
  vcpus: number;
  memoryMb: number;
  diskSizeMb: number;
  bootTimeoutSeconds: number;
  accel: 'auto' | 'kvm' | 'tcg';
  runtimeRoot?: string;
  qemuBinary?: string;
  network?: VmNetworkProvider;
  /** QEMU's kernel: the bzImage (default) or the image's ELF vmlinux through PVH (Firecracker: always vmlinux). */
  qemuKernel?: 'bzImage' | 'vmlinux';
  /** A warm pool ([runners.vm] idle_count > 0): VMs booted ahead for this runner's next jobs. */
  pool?: {
    idleCount: number;
    idleTimeSeconds: number;
    /** The runner's VM budget: its `limit` within the global `concurrent`. */
    maxVms: number;
    log?: (message: string, fields?: Record<string, unknown>) => void;
  };
  /** `image:` support; absent = Tart's own root only. */
  jobImages?: JobImageSettings;
  /** User-mode QEMU kept off the host's services: QEMU's uid, and the guard around each VM. */
  guard?: GuardedUserNetwork;
  /** The executor's own events (cgroup limits unavailable), for the daemon log. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export function createVmExecutor(options: CreateVmExecutorOptions): VmExecutor {
  const firecracker = options.vmm === 'firecracker';
  if (firecracker && !options.network) {
    throw new TartError(
      'FIRECRACKER_NEEDS_TAP',
      'the firecracker executor needs TAP networking ([runners.vm] network = "tap")',
    );
  }
  const fresh: VmExecutorOptions = {
    vmm: firecracker
      ? new FirecrackerVmm(options.firecracker ? firecrackerVmmOptionsFromConfig(options.firecracker) : {})
      : new QemuVmm({
          accel: options.accel,
          binary: options.qemuBinary,
          ...(options.guard ? { runAs: options.guard.runAs } : {}),
          cgroups: sharedVmCgroups(options.log ?? options.pool?.log),
          // describe() must report the accelerator start() will use: both probe with the image's kernel.
          probeKernel: {
            kernelPath: join(options.imageDir, IMAGE_FILES.kernel),
            initrdPath: join(options.imageDir, IMAGE_FILES.initrd),
          },
        }),
    imageDir: options.imageDir,
    vcpus: options.vcpus,
    memoryMb: options.memoryMb,
    diskSizeMb: options.diskSizeMb,
    bootTimeoutSeconds: options.bootTimeoutSeconds,
    runtimeRoot: options.runtimeRoot ?? defaultRuntimeRoot(),
    network: options.network,
    ...(options.guard ? { hostGuard: options.guard.hostGuard } : {}),
    // Released Firecracker boots only an ELF vmlinux on x86_64; QEMU takes the bzImage.
    kernel: firecracker ? 'vmlinux' : (options.qemuKernel ?? 'bzImage'),
  };
  const pool = options.pool;
  const jobImages = options.jobImages;
  if (!pool || pool.idleCount <= 0) return new VmExecutor(fresh, options.jobImages);
  const inner = new FreshVmProvider(fresh);
  // With a default_image, pooled VMs boot with it: the jobs that take it are those that name no image.
  // Its root is set up with the guest image's tools, as the executor sets up a job's (the boot keys match).
  const prepareBoot = async (signal: AbortSignal) =>
    prepareDefaultImageBoot(jobImages!, (line: string) => pool.log?.(line), signal, (await inner.guestTools?.()) ?? {});
  return new VmExecutor({
    provider: new PooledVmProvider(inner, {
      idleCount: pool.idleCount,
      idleTimeMs: pool.idleTimeSeconds * 1000,
      maxVms: pool.maxVms,
      log: pool.log,
      ...(jobImages?.defaultImage ? { prepareBoot } : {}),
    }),
  }, options.jobImages);
}
