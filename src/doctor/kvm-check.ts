// Can KVM run a stock guest here? /dev/kvm alone does not say: PVM hosts (kvm_pvm) expose it,
// yet a stock kernel fails there with "KVM internal error" (see the firecracker reference §6.4).
import type { CheckResult, DoctorHost, Requirements } from './types.js';

export interface KvmFacts {
  devKvm: 'absent' | 'no-access' | 'usable';
  pvm: boolean;
  /** Result of a probe boot, when /dev/kvm was usable and an image existed. */
  probe?: 'kvm' | 'tcg';
}

export async function gatherKvmFacts(
  host: DoctorHost,
  image: { kernelPath: string; initrdPath: string } | undefined,
): Promise<KvmFacts> {
  const devKvm = !(await host.exists('/dev/kvm'))
    ? 'absent'
    : (await host.readWritable('/dev/kvm'))
      ? 'usable'
      : 'no-access';
  const modules = (await host.readText('/proc/modules')) ?? '';
  const pvm = /^kvm_pvm\s/m.test(modules) || (await host.exists('/sys/module/kvm_pvm'));
  if (devKvm !== 'usable' || image === undefined) return { devKvm, pvm };
  return { devKvm, pvm, probe: await host.probeKvm(image) };
}

export function judgeKvm(facts: KvmFacts, needs: Requirements): CheckResult {
  const severity = needs.kvm ? 'fail' : 'warn';
  const tcgNote = needs.qemu || !needs.firecracker ? '; QEMU falls back to TCG' : '';
  if (facts.pvm) {
    return {
      name: 'kvm',
      verdict: severity,
      fact: `KVM is PVM-only (kvm_pvm loaded${facts.devKvm === 'absent' ? ', /dev/kvm absent' : ''}): stock guest kernels cannot run under KVM${tcgNote}`,
      fix: 'use accel = "auto" or "tcg" here; Firecracker and KVM speed need a host with hardware virtualization (vmx/svm, kvm_intel/kvm_amd)',
    };
  }
  if (facts.devKvm === 'absent') {
    return {
      name: 'kvm',
      verdict: severity,
      fact: `/dev/kvm is absent${tcgNote}`,
      fix: 'load kvm_intel or kvm_amd (enable virtualization in the firmware or the cloud instance type)',
    };
  }
  if (facts.devKvm === 'no-access') {
    return {
      name: 'kvm',
      verdict: severity,
      fact: `/dev/kvm exists but is not readable and writable by this user${tcgNote}`,
      fix: 'run as root or add the user to the kvm group',
    };
  }
  if (facts.probe === 'tcg') {
    return {
      name: 'kvm',
      verdict: severity,
      fact: `a probe boot under -accel kvm failed${tcgNote}`,
      fix: 'check dmesg for KVM errors; nested virtualization may be unsupported',
    };
  }
  const proof =
    facts.probe === 'kvm'
      ? 'a probe boot under -accel kvm reached the kernel'
      : 'no image to probe-boot with yet';
  return { name: 'kvm', verdict: 'ok', fact: `/dev/kvm is usable; ${proof}` };
}
