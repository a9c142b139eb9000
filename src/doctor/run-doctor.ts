// `tart doctor`: every check in order, one line each, and whether the host can run the
// configured executors (any failure does not).
import { defaultImageDir, type HostFacts } from '../config/paths.js';
import { resolveFirecrackerBinary } from '../vmm/firecracker/firecracker-vmm.js';
import { gatherKvmFacts, judgeKvm } from './kvm-check.js';
import { judgeCgroups } from './cgroup-check.js';
import { judgeIsolation } from './isolation-check.js';
import { judgePool } from './pool-check.js';
import { requirementsOf } from './requirements.js';
import { checkConfig, judgeImage, judgeTcgPath, probeImage } from './setup-checks.js';
import { checkBinary, checkTun } from './tool-checks.js';
import { FIRECRACKER_FIX, QEMU_FIX } from './preflight.js';
import type { CheckResult, DoctorHost } from './types.js';

export interface DoctorReport {
  results: CheckResult[];
  /** 0 when nothing failed, 1 otherwise. */
  exitCode: number;
}

export async function runDoctor(input: {
  host: DoctorHost;
  configPath: string;
  hostFacts: HostFacts;
}): Promise<DoctorReport> {
  const { host } = input;
  const { result: configResult, config } = await checkConfig(host, input.configPath);
  const needs = requirementsOf(config);
  const vmRunner = config?.runners.find((runner) => runner.executor !== 'shell');
  const imageDir = vmRunner?.vm.image ?? defaultImageDir(input.hostFacts);
  const imageFacts = { dir: imageDir, verification: await host.verifyImage(imageDir) };
  const image = judgeImage(imageFacts, needs.image);
  const kvm = judgeKvm(await gatherKvmFacts(host, probeImage(imageFacts)), needs);
  const fcConfig = config?.runners.find((runner) => runner.executor === 'firecracker')?.firecracker;
  const firecracker = await checkBinary(host, {
    name: 'firecracker',
    binary: resolveFirecrackerBinary(fcConfig?.binary, host.env),
    required: needs.firecracker,
    fix: FIRECRACKER_FIX,
  });
  const jailer = await checkBinary(host, {
    name: 'jailer',
    binary: fcConfig?.jailer ?? 'jailer',
    required: needs.jailer,
    fix: 'install the jailer from the same Firecracker release',
  });
  const qemu = await checkBinary(host, {
    name: 'qemu',
    binary: host.env.QEMU_BIN || 'qemu-system-x86_64',
    required: needs.qemu,
    fix: QEMU_FIX,
  });
  const tcg = judgeTcgPath(qemu, image, needs.qemu);
  const tun = await checkTun(host, needs.tap);
  const nft = await checkBinary(host, {
    name: 'nft',
    binary: 'nft',
    required: needs.tap || needs.hostGuard,
    fix: 'apt-get install nftables',
    args: ['--version'],
  });
  const pool = judgePool(config, (await host.pooledVms?.()) ?? []);
  const isolation = judgeIsolation(config, input.hostFacts.uid);
  const cgroups = judgeCgroups(config, await host.cgroupSupport?.(), input.hostFacts.uid);
  const results = [configResult, kvm, firecracker, jailer, qemu, image, tcg, tun, nft, pool, isolation, cgroups];
  return { results, exitCode: results.some((result) => result.verdict === 'fail') ? 1 : 0 };
}

/** `ok    kvm          fact  (fix: …)`, one line per check. */
export function formatReport(report: DoctorReport): string {
  return report.results
    .map(
      (result) =>
        `${result.verdict.padEnd(5)} ${result.name.padEnd(12)} ${result.fact}${result.fix ? `  (fix: ${result.fix})` : ''}\n`,
    )
    .join('');
}
