// From config.toml to what this host must provide. Without a config, the QEMU path (the default
// for `tart exec`) is what matters.
import type { TartConfig } from '../config/types.js';
import type { Requirements } from './types.js';

export function requirementsOf(config: TartConfig | undefined): Requirements {
  if (config === undefined || config.runners.length === 0) {
    return { qemu: true, firecracker: false, jailer: false, kvm: false, tap: false, hostGuard: false, image: true };
  }
  const vmRunners = config.runners.filter((runner) => runner.executor !== 'shell');
  const firecracker = vmRunners.filter((runner) => runner.executor === 'firecracker');
  return {
    qemu: vmRunners.some((runner) => runner.executor === 'qemu'),
    firecracker: firecracker.length > 0,
    jailer: firecracker.some((runner) => runner.firecracker.useJailer),
    kvm: firecracker.length > 0 || vmRunners.some((runner) => runner.vm.accel === 'kvm'),
    tap: vmRunners.some((runner) => runner.vm.network === 'tap'),
    hostGuard: vmRunners.some(
      (runner) => runner.executor === 'qemu' && runner.vm.network === 'user' && runner.vm.hostGuard,
    ),
    image: vmRunners.length > 0,
  };
}
