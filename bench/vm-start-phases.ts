// Where a VM job's start goes, phase by phase, with the QEMU executor and the installed image:
// disk prep, VMM spawn, kernel to init (the guest's own clock, from the console), init to sshd
// ready, SSH connect, and the first stage command running; then the job's total overhead next to
// the script's own run time, and per-job disk prep next to a full copy of rootfs.ext4.
//   npx tsx bench/vm-start-phases.ts [--runs N] [--image DIR] [--script 'sleep 1']
// Median of N runs; one VM at a time (1 vCPU, 512 MiB). Under TCG the figures are honest TCG ones.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs, promisify } from 'node:util';
import { createVmExecutor, type VmExecutor } from '../src/executor/vm/index.js';
import type { JobEnvironment } from '../src/executor/types.js';
import type { JobPayload } from '../src/model/payload.js';
import { IMAGE_FILES, currentImageDir, defaultImageRoot, readImageManifest } from '../src/image/layout.js';
import { createScratchDisk, createSeedDisk } from '../src/vmm/disks.js';
import { USER_MODE_NETWORK } from '../src/vmm/guest-contract.js';
import { generateVmKeys } from '../src/guest/ssh/keys.js';
import { QemuVmm } from '../src/vmm/qemu/qemu-vmm.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    image: { type: 'string' },
    script: { type: 'string', default: 'sleep 1' },
  },
});
const runs = Number(values.runs);
const imageDir = values.image ?? currentImageDir(defaultImageRoot());

interface RunFigures {
  diskPrepMs: number;
  vmmSpawnMs: number;
  /** Guest uptime when the initramfs started: firmware + kernel boot. */
  kernelToInitMs?: number;
  /** From VMM spawn to the guest's "sshd started" marker, as the host saw it. */
  spawnToSshdMs: number;
  sshConnectMs: number;
  firstStageMs: number;
  scriptMs: number;
  closeMs: number;
  jobWallMs: number;
}

async function main(): Promise<void> {
  const manifest = await readImageManifest(imageDir);
  const runtimeRoot = await mkdtemp(join(tmpdir(), 'tart-bench-vm-'));
  try {
    const executor = createVmExecutor({
      vmm: 'qemu',
      imageDir,
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 8192,
      bootTimeoutSeconds: 300,
      accel: 'auto',
      runtimeRoot,
    });
    const accel = await new QemuVmm({ accel: 'auto' }).accelerator({
      kernelPath: join(imageDir, IMAGE_FILES.kernel),
      initrdPath: join(imageDir, IMAGE_FILES.initrd),
    });
    console.log(
      `image ${manifest.version} (kernel ${manifest.kernelRelease}), accel ${accel}, ${runs} run(s), script: ${values.script}`,
    );
    const all: RunFigures[] = [];
    for (let run = 1; run <= runs; run += 1) {
      const figures = await oneJob(executor, runtimeRoot, run);
      all.push(figures);
      console.log(
        `run ${run}: ${Object.entries(figures)
          .map(([key, ms]) => `${key}=${ms === undefined ? '-' : Math.round(ms)}`)
          .join(' ')}`,
      );
    }
    printMedians(all);
    await compareDiskPrep(runtimeRoot);
  } finally {
    await rm(runtimeRoot, { recursive: true, force: true });
  }
}

// One job's life: prepare (boot), a first stage command, the script, close.
async function oneJob(executor: VmExecutor, runtimeRoot: string, run: number): Promise<RunFigures> {
  const started = performance.now();
  const env = await executor.prepare({
    job: { id: 900 + run } as JobPayload,
    log: () => undefined,
    signal: new AbortController().signal,
  });
  const timings = executor.lastTimings;
  if (!timings) throw new Error('the executor recorded no timings');
  const console = await readConsole(runtimeRoot);
  const beforeFirst = performance.now();
  await mustRun(env, ['true']);
  const beforeScript = performance.now();
  await mustRun(env, ['bash', '-c', values.script ?? 'true']);
  const beforeClose = performance.now();
  await env.close();
  const ended = performance.now();
  const initramfs = /tart-initramfs: started at ([\d.]+) s/.exec(console)?.[1];
  return {
    diskPrepMs: timings.diskPrepMs,
    vmmSpawnMs: timings.vmmSpawnMs,
    kernelToInitMs: initramfs === undefined ? undefined : Number(initramfs) * 1000,
    spawnToSshdMs: timings.readyMarkerMs,
    sshConnectMs: timings.sshConnectMs,
    firstStageMs: beforeScript - beforeFirst,
    scriptMs: beforeClose - beforeScript,
    closeMs: ended - beforeClose,
    jobWallMs: ended - started,
  };
}

async function mustRun(env: JobEnvironment, command: string[]): Promise<void> {
  const sink = new PassThrough().resume();
  const { exitCode } = await env.exec({ command, stdout: sink, stderr: sink });
  if (exitCode !== 0) throw new Error(`${command.join(' ')} exited ${exitCode}`);
}

// The console log of the only VM under runtimeRoot (removed by close()).
async function readConsole(runtimeRoot: string): Promise<string> {
  const [dir] = await readdir(runtimeRoot);
  return dir ? readFile(join(runtimeRoot, dir, 'console.log'), 'utf8').catch(() => '') : '';
}

function printMedians(all: RunFigures[]): void {
  const median = (pick: (figures: RunFigures) => number | undefined): number | undefined => {
    const sorted = all
      .map(pick)
      .filter((value): value is number => value !== undefined)
      .sort((a, b) => a - b);
    if (sorted.length === 0) return undefined;
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  };
  const seconds = (ms: number | undefined) =>
    ms === undefined ? '    n/a' : `${(ms / 1000).toFixed(3).padStart(7)} s`;
  const kernel = median((f) => f.kernelToInitMs);
  const spawnToSshd = median((f) => f.spawnToSshdMs);
  const overhead = median((f) => f.jobWallMs - f.scriptMs);
  console.log(`\nmedian of ${all.length} run(s):`);
  console.log(`  pre-spawn (keys, disks, probe)  ${seconds(median((f) => f.diskPrepMs))}`);
  console.log(`  VMM spawn                       ${seconds(median((f) => f.vmmSpawnMs))}`);
  console.log(`  kernel to init (guest clock)    ${seconds(kernel)}`);
  console.log(
    `  init to sshd ready              ${seconds(spawnToSshd !== undefined && kernel !== undefined ? spawnToSshd - kernel : undefined)}`,
  );
  console.log(`    (spawn to sshd ready, host)   ${seconds(spawnToSshd)}`);
  console.log(`  SSH connect                     ${seconds(median((f) => f.sshConnectMs))}`);
  console.log(`  first stage command running     ${seconds(median((f) => f.firstStageMs))}`);
  console.log(`  VM teardown (close)             ${seconds(median((f) => f.closeMs))}`);
  console.log(`  script's own run time           ${seconds(median((f) => f.scriptMs))}`);
  console.log(`  job wall time                   ${seconds(median((f) => f.jobWallMs))}`);
  console.log(`  overhead (wall - script)        ${seconds(overhead)}`);
}

// Per-job disks (sparse scratch + seed tar) against what a copy-the-rootfs design would pay.
async function compareDiskPrep(runtimeRoot: string): Promise<void> {
  const dir = await mkdtemp(join(runtimeRoot, 'disks-'));
  const keys = generateVmKeys('bench');
  const prepStarted = performance.now();
  await createScratchDisk(join(dir, 'scratch.img'), 8192);
  await createSeedDisk(join(dir, 'seed.tar'), {
    authorizedKeys: keys.client.publicKey,
    hostPrivateKey: keys.host.privateKey,
    hostPublicKey: keys.host.publicKey,
    network: USER_MODE_NETWORK,
    hostname: 'bench',
  });
  const prepMs = performance.now() - prepStarted;
  const copyStarted = performance.now();
  await promisify(execFile)('cp', [join(imageDir, IMAGE_FILES.rootfs), join(dir, 'rootfs-copy.ext4')]);
  const copyMs = performance.now() - copyStarted;
  const sizeMb =
    (
      await readFile(join(imageDir, 'manifest.json'), 'utf8').then(
        (text) => JSON.parse(text) as { files: { rootfs: { size: number } } },
      )
    ).files.rootfs.size /
    2 ** 20;
  console.log(
    `\nper-job disk prep: ${prepMs.toFixed(1)} ms (8 GiB sparse scratch + seed) vs cp of rootfs.ext4 (${sizeMb.toFixed(0)} MiB): ${copyMs.toFixed(0)} ms`,
  );
  await rm(dir, { recursive: true, force: true });
}

await main();
