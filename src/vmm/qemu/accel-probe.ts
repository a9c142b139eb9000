// accel = "auto": use KVM only when this host really boots a stock kernel under it. PVM-only
// hosts (kvm_pvm) expose /dev/kvm but a stock kernel fails or hangs there, so a short probe
// boot decides, and the verdict is cached per kernel for the life of the process.
import { access, constants } from 'node:fs/promises';
import type { QemuAccelerator } from './qemu-args.js';
import { spawnVmm, type SpawnVmm } from '../spawn.js';

export interface AccelProbeInput {
  qemuBinary: string;
  kernelPath: string;
  initrdPath: string;
  timeoutMs?: number;
  spawn?: SpawnVmm;
}

const verdicts = new Map<string, Promise<QemuAccelerator>>();

/** "kvm" when /dev/kvm is usable and the probe boot reaches the kernel's first console lines. */
export function probeAccelerator(input: AccelProbeInput): Promise<QemuAccelerator> {
  const key = `${input.qemuBinary}\0${input.kernelPath}`;
  let verdict = verdicts.get(key);
  if (!verdict) {
    verdict = runProbe(input);
    verdicts.set(key, verdict);
  }
  return verdict;
}

async function runProbe(input: AccelProbeInput): Promise<QemuAccelerator> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  // The kernel panics at once without a root; reaching "Kernel panic" or "Run /init" proves it ran.
  const child = (input.spawn ?? spawnVmm)(
    input.qemuBinary,
    [
      '-M', 'microvm,acpi=on', '-accel', 'kvm', '-cpu', 'host', '-m', '256', '-smp', '1',
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console',
      '-kernel', input.kernelPath, '-initrd', input.initrdPath,
      '-append', 'console=ttyS0 panic=-1 reboot=t tart.probe=1',
    ],
    {},
  );
  return new Promise<QemuAccelerator>((resolve) => {
    let output = '';
    const finish = (verdict: QemuAccelerator) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(verdict);
    };
    const timer = setTimeout(() => finish('tcg'), input.timeoutMs ?? 8000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/Run \/init|Kernel panic|Freeing unused kernel/.test(output)) finish('kvm');
    });
    child.stderr?.resume();
    child.on('error', () => finish('tcg'));
    child.on('exit', () => finish(/Run \/init|Kernel panic|Freeing unused kernel/.test(output) ? 'kvm' : 'tcg'));
  });
}
