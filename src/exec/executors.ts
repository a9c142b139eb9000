// The executor for `tart exec --executor <kind>`: the same factory `tart run` uses, fed a
// runner entry built as data from config defaults, so exec gets VM support exactly when the daemon does.
import { join } from 'node:path';
import type { HostDefaults } from '../config/fields.js';
import type { RunnerConfig } from '../config/types.js';
import { newRunnerConfig } from '../config/runner-defaults.js';
import { createExecutorFor } from '../executor/factory.js';
import type { Executor } from '../executor/types.js';

export type ExecExecutorKind = 'shell' | 'qemu' | 'firecracker';

export const EXEC_EXECUTOR_KINDS: readonly ExecExecutorKind[] = ['shell', 'qemu', 'firecracker'];

/** The host in the git server's URLs by default; the VM executor rewrites loopback URLs for its guests. */
export const DEFAULT_SERVER_HOST = '127.0.0.1';

/**
 * One executor per concurrency slot. Shell jobs share the host, so each slot gets its own builds
 * dir (`<buildsRoot>/slot-N`); VM executors are disposable and could share one, but stay per slot for symmetry.
 */
export function execExecutorFactory(options: {
  kind: ExecExecutorKind;
  buildsRoot: string;
  defaults: HostDefaults;
  image?: string;
}): (slot: number) => Executor {
  const executors = new Map<number, Executor>();
  return (slot) => {
    let executor = executors.get(slot);
    if (!executor) {
      executor = createExecutorFor(
        runnerEntry(options.kind, join(options.buildsRoot, `slot-${slot}`), options.defaults, options.image),
      );
      executors.set(slot, executor);
    }
    return executor;
  };
}

function runnerEntry(
  kind: ExecExecutorKind,
  buildsDir: string,
  defaults: HostDefaults,
  image: string | undefined,
): RunnerConfig {
  const runner = newRunnerConfig(
    {
      name: 'tart-exec',
      url: 'http://127.0.0.1',
      token: 'glrt-tart-exec-local',
      executor: kind,
      // As config.toml does for firecracker runners: it has no user-mode networking. A local run
      // executes the working copy's own jobs against exec's own server, on a loopback port chosen
      // at run time: its user-mode VMs are not put behind the host guard.
      vm: kind === 'firecracker' ? { network: 'tap' } : { host_guard: false },
    },
    defaults,
  );
  return { ...runner, buildsDir, ...(image ? { vm: { ...runner.vm, image } } : {}) };
}
