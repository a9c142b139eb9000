// Per-VM network setup and teardown time (lease + TAP with address + up; then delete + release)
// inside a throw-away network namespace, with the host table already loaded, as in the daemon.
// Run (root): npx tsx bench/net.ts [runs]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_NETWORK_CONFIG,
  setupHostNetwork,
  setupVmNetwork,
  teardownHostNetwork,
} from '../src/net/index.js';

const runs = Number(process.argv[2] ?? 50);
const netns = `tart-bench-${randomBytes(3).toString('hex')}`;
const stateDir = await mkdtemp(join(tmpdir(), 'tart-bench-net-'));
spawnSync('ip', ['netns', 'add', netns]);
try {
  await setupHostNetwork(DEFAULT_NETWORK_CONFIG, { netns, stateDir, dns: ['192.0.2.53'] });
  const setups: number[] = [];
  const teardowns: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const vm = await setupVmNetwork({
      vmId: `bench-${run}`,
      config: DEFAULT_NETWORK_CONFIG,
      netns,
      stateDir,
    });
    const ready = performance.now();
    await vm.teardown();
    setups.push(ready - started);
    teardowns.push(performance.now() - ready);
  }
  await teardownHostNetwork(DEFAULT_NETWORK_CONFIG, { netns, stateDir });
  console.log(`per-VM network, ${runs} runs in a netns (load ${loadavg()[0]?.toFixed(2)}):`);
  console.log(
    `  setup    median ${percentile(setups, 50).toFixed(1)} ms, p95 ${percentile(setups, 95).toFixed(1)} ms`,
  );
  console.log(
    `  teardown median ${percentile(teardowns, 50).toFixed(1)} ms, p95 ${percentile(teardowns, 95).toFixed(1)} ms`,
  );
} finally {
  spawnSync('ip', ['netns', 'del', netns]);
  await rm(stateDir, { recursive: true, force: true });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
