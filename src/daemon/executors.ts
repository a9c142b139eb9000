// The Executor for one [[runners]] entry, chosen by its `executor` key.
import { TartError } from '../errors.js';
import type { RunnerConfig } from '../config/types.js';
import type { Executor } from '../executor/types.js';
import { ShellExecutor } from '../executor/shell/index.js';
import { createVmExecutor } from '../executor/vm/index.js';

export type ExecutorFactory = (runner: RunnerConfig) => Executor;

/** Builds the executor named by `runner.executor`. */
export const createExecutorFor: ExecutorFactory = (runner) => {
  switch (runner.executor) {
    case 'shell':
      return new ShellExecutor({ buildsDir: runner.buildsDir });
    case 'qemu':
      if (runner.vm.network === 'tap') {
        throw new TartError('EXECUTOR_UNAVAILABLE', `runner "${runner.name}": network = "tap" for qemu needs "tart network setup" support, not wired yet; use network = "user"`);
      }
      return createVmExecutor({
        vmm: 'qemu',
        imageDir: runner.vm.image,
        vcpus: runner.vm.vcpus,
        memoryMb: runner.vm.memoryMb,
        diskSizeMb: runner.vm.diskSizeMb,
        bootTimeoutSeconds: runner.vm.bootTimeout,
        accel: runner.vm.accel,
      });
    case 'firecracker':
      throw new TartError('EXECUTOR_UNAVAILABLE', `runner "${runner.name}": the firecracker executor is not wired into the daemon yet`);
  }
};
