// What one service costs a job (#11): the time from "VM ready" to the start of step_script for a
// `true` job with GIT_STRATEGY=none, with one Debian redis-server service (its root mounted,
// started, its port 6379 answering) against no service; both on the QEMU executor with the
// installed image (1 vCPU, 512 MiB), interleaved, the service image pulled from a docker-registry
// on 127.0.0.1 into a fresh image store (pulls happen before the VM, outside the figure).
//   npx tsx bench/services.ts [--runs N] [--image DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createVmExecutor } from '../src/executor/vm/index.js';
import type { Executor } from '../src/executor/types.js';
import { currentImageDir, defaultImageRoot, readImageManifest } from '../src/image/layout.js';
import type { JobPayload } from '../src/model/payload.js';
import { ImageStore } from '../src/oci/store.js';
import { createJobHarness, type JobHarness } from '../test/job/support/job-harness.js';
import { startRegistry } from '../test/support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../test/support/oci/test-images.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, image: { type: 'string' } } });
const runs = Number(values.runs);
const imageDir = values.image ?? currentImageDir(defaultImageRoot());

async function main(): Promise<void> {
  const manifest = await readImageManifest(imageDir);
  const work = await mkdtemp(join(tmpdir(), 'tart-bench-services-'));
  const registry = await startRegistry();
  const harness = await createJobHarness();
  try {
    pushTestImage(await testImageLayout('redis'), registry.host, 'library/redis', '7');
    const executor = createVmExecutor({
      vmm: 'qemu',
      imageDir,
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 2048,
      bootTimeoutSeconds: 300,
      accel: 'auto',
      runtimeRoot: join(work, 'runtime'),
      jobImages: { store: new ImageStore({ root: join(work, 'store') }), allowedImages: [], allowedPullPolicies: [], environment: [] },
    });
    console.log(`image ${manifest.version} (kernel ${manifest.kernelRelease}), ${runs} run(s) each, job: true, GIT_STRATEGY=none`);
    const plain = harness.job({ script: ['true'], variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }], traceSections: true });
    const withRedis: JobPayload = { ...plain, services: [{ name: `${registry.host}/library/redis:7`, variables: [] }] };
    const figures = { none: [] as number[], redis: [] as number[] };
    for (let run = 1; run <= runs; run += 1) {
      figures.none.push(await readyToScript(harness, executor, plain, `no service ${run}`));
      figures.redis.push(await readyToScript(harness, executor, withRedis, `redis ${run}`));
    }
    const none = median(figures.none);
    const redis = median(figures.redis);
    console.log(`\nVM ready → step_script, median (min – max) of ${runs}:`);
    console.log(`no service   ${seconds(none)} (${seconds(Math.min(...figures.none))} – ${seconds(Math.max(...figures.none))})`);
    console.log(`one service  ${seconds(redis)} (${seconds(Math.min(...figures.redis))} – ${seconds(Math.max(...figures.redis))})`);
    console.log(`the service costs ${seconds(redis - none)}`);
  } finally {
    await harness.cleanup();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// The first "VM ready" line to the step_script section's start, by the host clock.
async function readyToScript(harness: JobHarness, executor: Executor, job: JobPayload, label: string): Promise<number> {
  let ready: number | undefined;
  let script: number | undefined;
  const { outcome, trace } = await harness.run(job, {
    executor,
    onTrace: (text) => {
      ready ??= text.includes('VM ready in') ? performance.now() : undefined;
      script ??= /section_start:\d+:step_script/.test(text) ? performance.now() : undefined;
    },
  });
  if (outcome.state !== 'success' || ready === undefined || script === undefined) throw new Error(`${label}: ${outcome.message}\n${trace}`);
  console.log(`${label.padEnd(13)} VM ready → step_script ${seconds(script - ready)}`);
  return script - ready;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

await main();
