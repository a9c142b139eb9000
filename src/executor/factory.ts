// The Executor for one [[runners]] entry, chosen by its `executor` key. `tart run` and `tart exec`
// both call it; exec passes a runner entry built as data (config/runner-defaults.ts).
import type { RunnerConfig } from '../config/types.js';
import type { Executor } from './types.js';
import { ShellExecutor } from './shell/index.js';
import { createVmExecutor } from './vm/index.js';
import { tapNetworkProvider } from '../net/index.js';
import { sharedImageStore } from '../oci/shared-store.js';
import type { JobImageSettings } from './vm/job-image.js';
import { guardedUserNetwork } from './vm/guarded-user-network.js';
import { poolSettingsOf } from './pool-settings.js';

export interface ExecutorFactoryOptions {
  runtimeRoot?: string;
  /** The global `concurrent`: with the runner's `limit`, it bounds a warm pool's VMs. */
  concurrent?: number;
  /** The executor's own background events (a warm pool's boots), for the daemon log. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export type ExecutorFactory = (runner: RunnerConfig, options?: ExecutorFactoryOptions) => Executor;

/** Builds the executor named by `runner.executor`. */
export const createExecutorFor: ExecutorFactory = (runner, options = {}) => {
  switch (runner.executor) {
    case 'shell':
      return new ShellExecutor({ buildsDir: runner.buildsDir });
    case 'qemu':
    case 'firecracker':
      return createVmExecutor({
        vmm: runner.executor,
        firecracker: runner.firecracker,
        imageDir: runner.vm.image,
        vcpus: runner.vm.vcpus,
        memoryMb: runner.vm.memoryMb,
        diskSizeMb: runner.vm.diskSizeMb,
        bootTimeoutSeconds: runner.vm.bootTimeout,
        accel: runner.vm.accel,
        runtimeRoot: options.runtimeRoot,
        // TAP networking needs `tart network setup` (host table and sysctls) to have run.
        network: runner.vm.network === 'tap' ? tapNetworkProvider({ config: runner.network }) : undefined,
        pool: { ...poolSettingsOf(runner, options.concurrent), log: options.log },
        jobImages: jobImageSettings(runner),
        guard: guardedUserNetwork(runner),
        log: options.log,
      });
  }
};

// [runners.vm]'s image keys; the store directory is shared by every runner that names it.
function jobImageSettings(runner: RunnerConfig): JobImageSettings {
  const { vm } = runner;
  return {
    store: sharedImageStore({ root: vm.imageStore, maxSizeMb: vm.imageStoreSizeMb, insecureRegistries: vm.insecureRegistries }),
    defaultImage: vm.defaultImage,
    allowedImages: vm.allowedImages,
    allowedServices: vm.allowedServices,
    pullPolicy: vm.pullPolicy,
    allowedPullPolicies: vm.allowedPullPolicies,
    environment: runner.environment,
    waitForServicesTimeout: vm.waitForServicesTimeout,
    servicesLimit: vm.servicesLimit,
    services: vm.services,
    userPolicy: { ...(vm.user === undefined ? {} : { user: vm.user }), allowedUsers: vm.allowedUsers },
    volumes: vm.volumes,
  };
}
