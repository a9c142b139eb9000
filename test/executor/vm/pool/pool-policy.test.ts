// The warm pool's policy, against an inner provider whose "VMs" are real processes (an idle
// process naming its runtime dir, so the pool's liveness check sees a live VMM): a job of another boot
// key (an image digest) boots cold; the pool stays within maxVms; idle_time replaces a VM that
// waited too long; a VM whose VMM died while idle is never handed out.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PooledVmProvider } from '../../../../src/executor/vm/index.js';
import { waitFor } from '../../../support/wait-for.js';
import { ProcessVmProvider } from '../support/process-vm-provider.js';

const signal = new AbortController().signal;
const log = () => undefined;

describe('the warm pool policy', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  async function setUp(options: { idleCount: number; idleTimeMs?: number; maxVms: number }) {
    const root = await mkdtemp(join(tmpdir(), 'tart-pool-policy-'));
    const inner = new ProcessVmProvider(root);
    const pool = new PooledVmProvider(inner, { idleTimeMs: 0, retryDelayMs: 10, ...options });
    cleanups.push(async () => {
      await pool.dispose();
      await rm(root, { recursive: true, force: true });
    });
    pool.start();
    return { inner, pool };
  }

  it('boots cold for a job whose image digest has no ready VM, and keeps the default-root VM', async () => {
    const { inner, pool } = await setUp({ idleCount: 1, maxVms: 3 });
    await waitFor(() => pool.counts().idle === 1, 5000, 'the pool to fill');
    const vm = await pool.acquire({ name: 'job1', log, imageDigest: 'sha256:' + 'a'.repeat(64) }, signal);
    assert.equal(vm.handle.vmId, 'job1-2', 'a cold boot of its own');
    assert.equal(pool.counts().idle, 1, 'the default-root VM still waits');
    await pool.release(vm);
    const pooled = await pool.acquire({ name: 'job2', log }, signal);
    assert.equal(pooled.handle.vmId, 'pool-1', 'a default-root job gets the pooled VM');
    assert.equal(pooled.handle.pool?.state, 'in-use');
    await pool.release(pooled);
    assert.deepEqual(inner.released, ['job1-2', 'pool-1'], 'every used VM is destroyed');
  });

  it('stays within maxVms: VMs in use count, and the pool refills only when one is released', async () => {
    const { inner, pool } = await setUp({ idleCount: 2, maxVms: 2 });
    await waitFor(() => pool.counts().idle === 2, 5000, 'the pool to fill');
    const first = await pool.acquire({ name: 'job1', log }, signal);
    const second = await pool.acquire({ name: 'job2', log }, signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 2 }, 'no boot beyond the budget');
    assert.equal(inner.booted.length, 2);
    await pool.release(first);
    await waitFor(() => pool.counts().idle === 1, 5000, 'one refill after a release');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(inner.booted.length, 3, 'exactly one more boot');
    await pool.release(second);
    await waitFor(() => pool.counts().idle === 2, 5000, 'the pool to fill again');
  });

  it('replaces a VM that waited idle_time, and never hands out one whose VMM died', async () => {
    const { inner, pool } = await setUp({ idleCount: 1, idleTimeMs: 300, maxVms: 2 });
    await waitFor(() => inner.booted.length >= 2 && pool.counts().idle === 1, 5000, 'a recycle and a refill');
    assert.ok(inner.released.includes('pool-1'), 'the VM that waited idle_time was destroyed');
    const [waiting] = inner.booted.slice(-1);
    await inner.kill(waiting ?? '');
    const vm = await pool.acquire({ name: 'job1', log }, signal);
    assert.notEqual(vm.handle.vmId, waiting, 'a dead pooled VM is not handed out');
    assert.match(vm.handle.vmId, /^job1-/, 'the job booted cold instead');
    await pool.release(vm);
  });

  it('dispose() destroys idle VMs, and later jobs boot cold', async () => {
    const { inner, pool } = await setUp({ idleCount: 2, maxVms: 4 });
    await waitFor(() => pool.counts().idle === 2, 5000, 'the pool to fill');
    await pool.dispose();
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 0 });
    assert.deepEqual([...inner.released].sort(), ['pool-1', 'pool-2']);
    const vm = await pool.acquire({ name: 'job1', log }, signal);
    assert.match(vm.handle.vmId, /^job1-/);
    await pool.release(vm);
  });
});
