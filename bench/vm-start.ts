// Cold boot (bzImage, and the ELF vmlinux through PVH) against the warm pool, side by side in one run: a `true` job with GIT_STRATEGY=none
// through the real job engine, on the QEMU executor with the installed image (1 vCPU, 512 MiB).
// Runs alternate (pooled, cold, cold PVH) and each starts only when no VM is booting, so the two
// modes see the same host. Prints min/median/max of "VM ready" (the executor's prepare) and of
// the job's wall time, and each median's ratio to cold. Goal: pooled job wall <= 0.35x cold.
// Snapshot clones are not implemented yet (issue 12, part 2): their column says so.
//   npx tsx bench/vm-start.ts [--runs N] [--image DIR]
// The phase-by-phase breakdown of a cold start is bench/vm-start-phases.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createVmExecutor, type VmExecutor } from '../src/executor/vm/index.js';
import type { Executor } from '../src/executor/types.js';
import { currentImageDir, defaultImageRoot, readImageManifest } from '../src/image/layout.js';
import { createJobHarness, type JobHarness } from '../test/job/support/job-harness.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, image: { type: 'string' } } });
const runs = Number(values.runs);
const imageDir = values.image ?? currentImageDir(defaultImageRoot());

interface Figures {
  readyMs: number[];
  wallMs: number[];
}

async function main(): Promise<void> {
  const manifest = await readImageManifest(imageDir);
  const runtimeRoot = await mkdtemp(join(tmpdir(), 'tart-bench-vm-start-'));
  const harness = await createJobHarness();
  const options = {
    vmm: 'qemu' as const,
    imageDir,
    vcpus: 1,
    memoryMb: 512,
    diskSizeMb: 2048,
    bootTimeoutSeconds: 300,
    accel: 'auto' as const,
    runtimeRoot,
  };
  const cold = createVmExecutor(options);
  // Part 3's first step, measured in the same run: QEMU boots the image's ELF vmlinux (PVH entry).
  const coldPvh = createVmExecutor({ ...options, qemuKernel: 'vmlinux' });
  // maxVms 1: the pool refills only between jobs, never during a measured one.
  const pooled = createVmExecutor({ ...options, pool: { idleCount: 1, idleTimeSeconds: 0, maxVms: 1 } });
  pooled.start();
  console.log(`image ${manifest.version} (kernel ${manifest.kernelRelease}), ${runs} run(s) per mode, job: true, GIT_STRATEGY=none`);
  const figures = {
    cold: { readyMs: [], wallMs: [] } as Figures,
    coldPvh: { readyMs: [], wallMs: [] } as Figures,
    pooled: { readyMs: [], wallMs: [] } as Figures,
  };
  try {
    for (let run = 1; run <= runs; run += 1) {
      await poolFull(pooled);
      await oneJob(harness, pooled, figures.pooled, `pooled ${run}`);
      await poolFull(pooled);
      await oneJob(harness, cold, figures.cold, `cold ${run}`);
      await oneJob(harness, coldPvh, figures.coldPvh, `cold-pvh ${run}`);
    }
  } finally {
    await pooled.dispose();
    await harness.cleanup();
    await rm(runtimeRoot, { recursive: true, force: true });
  }
  printTable(figures);
}

async function poolFull(executor: VmExecutor): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (executor.poolCounts()?.idle !== 1 || executor.poolCounts()?.booting !== 0) {
    if (Date.now() > deadline) throw new Error('the pool did not refill within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function oneJob(harness: JobHarness, executor: Executor, into: Figures, label: string): Promise<void> {
  let readyMs = 0;
  const timed: Executor = {
    name: executor.name,
    prepare: async (prepare) => {
      const started = performance.now();
      const environment = await executor.prepare(prepare);
      readyMs = performance.now() - started;
      return environment;
    },
  };
  const job = harness.job({ script: ['true'], variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }] });
  const started = performance.now();
  const { outcome, trace } = await harness.run(job, { executor: timed });
  const wallMs = performance.now() - started;
  if (outcome.state !== 'success') throw new Error(`${label}: the job failed: ${outcome.message}\n${trace}`);
  into.readyMs.push(readyMs);
  into.wallMs.push(wallMs);
  console.log(`${label.padEnd(11)} VM ready ${seconds(readyMs)}  job wall ${seconds(wallMs)}`);
}

function printTable(figures: { cold: Figures; coldPvh: Figures; pooled: Figures }): void {
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median =
      sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
    return { min: sorted[0] ?? 0, median, max: sorted.at(-1) ?? 0 };
  };
  const cell = (values: number[], coldMedian: number) => {
    const { min, median, max } = stats(values);
    return `${seconds(median)} (${seconds(min)} – ${seconds(max)}) ${(median / coldMedian).toFixed(2)}x`;
  };
  const coldReady = stats(figures.cold.readyMs).median;
  const coldWall = stats(figures.cold.wallMs).median;
  console.log(`\nmedian (min – max), ratio of medians to cold, ${figures.cold.wallMs.length} run(s) each:`);
  console.log(`${'mode'.padEnd(16)} ${'VM ready'.padEnd(34)} job wall`);
  console.log(`${'cold boot'.padEnd(16)} ${cell(figures.cold.readyMs, coldReady).padEnd(34)} ${cell(figures.cold.wallMs, coldWall)}`);
  console.log(
    `${'cold, PVH'.padEnd(16)} ${cell(figures.coldPvh.readyMs, coldReady).padEnd(34)} ${cell(figures.coldPvh.wallMs, coldWall)}`,
  );
  console.log(
    `${'warm pool'.padEnd(16)} ${cell(figures.pooled.readyMs, coldReady).padEnd(34)} ${cell(figures.pooled.wallMs, coldWall)}`,
  );
  console.log(`${'snapshot clone'.padEnd(16)} not implemented yet`);
  const ratio = stats(figures.pooled.wallMs).median / coldWall;
  console.log(`\ngoal pooled job wall <= 0.35x cold: ${ratio <= 0.35 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 100 ? 3 : 2)} s`;
}

await main();
