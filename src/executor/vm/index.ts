// The VM executor and its factory from [runners.vm] settings.
import { QemuVmm } from '../../vmm/qemu/qemu-vmm.js';
import { defaultRuntimeRoot } from './runtime-dir.js';
import { VmExecutor, type VmNetworkProvider } from './vm-executor.js';

export { VmExecutor, type VmExecutorOptions, type VmStartTimings, type VmNetworkProvider } from './vm-executor.js';
export { reapOrphans } from './reaper.js';
export { defaultRuntimeRoot } from './runtime-dir.js';

export interface CreateVmExecutorOptions {
  vmm: 'qemu';
  imageDir: string;
  vcpus: number;
  memoryMb: number;
  diskSizeMb: number;
  bootTimeoutSeconds: number;
  accel: 'auto' | 'kvm' | 'tcg';
  runtimeRoot?: string;
  qemuBinary?: string;
  network?: VmNetworkProvider;
}

export function createVmExecutor(options: CreateVmExecutorOptions): VmExecutor {
  return new VmExecutor({
    vmm: new QemuVmm({ accel: options.accel, binary: options.qemuBinary }),
    imageDir: options.imageDir,
    vcpus: options.vcpus,
    memoryMb: options.memoryMb,
    diskSizeMb: options.diskSizeMb,
    bootTimeoutSeconds: options.bootTimeoutSeconds,
    runtimeRoot: options.runtimeRoot ?? defaultRuntimeRoot(),
    network: options.network,
    kernel: 'bzImage',
  });
}
