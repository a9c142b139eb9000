// Before `tart exec` starts a pipeline: the one check that decides whether the chosen executor can
// run on this host at all, worded as `tart doctor` words it. One clear error up front beats every
// job failing (and retrying) with a spawn error.
import { UserError } from '../errors.js';
import { resolveFirecrackerBinary } from '../vmm/firecracker/firecracker-vmm.js';
import { checkBinary } from './tool-checks.js';
import type { CheckResult, DoctorHost } from './types.js';

export const QEMU_FIX = 'apt-get install qemu-system-x86, or set QEMU_BIN';
export const FIRECRACKER_FIX =
  'install Firecracker (github.com/firecracker-microvm/firecracker releases) or set FIRECRACKER_BIN';

/** Throws EXECUTOR_UNAVAILABLE when `executor` cannot start a VM here; `shell` always can. */
export async function preflightExecutor(executor: string, host: DoctorHost): Promise<void> {
  const failed = (await checksFor(executor, host)).find((result) => result.verdict !== 'ok');
  if (failed === undefined) return;
  throw new UserError(
    'EXECUTOR_UNAVAILABLE',
    `the ${executor} executor cannot run on this host: ${failed.fact}` +
      `${failed.fix ? ` (fix: ${failed.fix})` : ''}; "tart doctor" checks this host, "--executor shell" runs without a VM`,
  );
}

async function checksFor(executor: string, host: DoctorHost): Promise<CheckResult[]> {
  if (executor === 'qemu') {
    return [
      await checkBinary(host, {
        name: 'qemu',
        binary: host.env.QEMU_BIN || 'qemu-system-x86_64',
        required: true,
        fix: QEMU_FIX,
      }),
    ];
  }
  if (executor === 'firecracker') {
    const binary = await checkBinary(host, {
      name: 'firecracker',
      binary: resolveFirecrackerBinary(undefined, host.env),
      required: true,
      fix: FIRECRACKER_FIX,
    });
    const kvm: CheckResult = (await host.readWritable('/dev/kvm'))
      ? { name: 'kvm', verdict: 'ok', fact: '/dev/kvm is usable' }
      : {
          name: 'kvm',
          verdict: 'fail',
          fact: '/dev/kvm is missing or not accessible (Firecracker needs KVM)',
          fix: 'run on a host with KVM',
        };
    return [binary, kvm];
  }
  return [];
}
