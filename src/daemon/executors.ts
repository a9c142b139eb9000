// The Executor for one [[runners]] entry, chosen by its `executor` key.
import { TartError } from '../errors.js';
import type { RunnerConfig } from '../config/types.js';
import type { Executor } from '../executor/types.js';
import { ShellExecutor } from '../executor/shell/index.js';

export type ExecutorFactory = (runner: RunnerConfig) => Executor;

/** Builds the executor named by `runner.executor`. */
export const createExecutorFor: ExecutorFactory = (runner) => {
  switch (runner.executor) {
    case 'shell':
      return new ShellExecutor({ buildsDir: runner.buildsDir });
    case 'qemu':
    case 'firecracker':
      throw new TartError('EXECUTOR_UNAVAILABLE', `the ${runner.executor} executor is not available in this build`);
  }
};
