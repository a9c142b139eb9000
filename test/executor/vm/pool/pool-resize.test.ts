// A reload resizes the warm pool in place (PooledVmProvider.resize), against an inner provider whose
// "VMs" are real processes: raising idle_count keeps the ready VMs and boots the missing ones one at
// a time; lowering it destroys idle VMs only, never one handed out, and cancels a boot that became
// one too many; a new idle_time applies to the VMs already idle; a lower budget (limit) trims too.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PooledVmProvider, type WarmPoolOptions } from '../../../../src/executor/vm/index.js';
import { waitFor } from '../../../support/wait-for.js';
import { ProcessVmProvider } from '../support/process-vm-provider.js';

const signal = new AbortController().signal;
const log = () => undefined;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resizing the warm pool in place', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  async function setUp(options: Partial<WarmPoolOptions> & { bootDelayMs?: number }) {
    const root = await mkdtemp(join(tmpdir(), 'tart-pool-resize-'));
    const inner = new ProcessVmProvider(root, { bootDelayMs: options.bootDelayMs ?? 0 });
    const events: string[] = [];
    const pool = new PooledVmProvider(inner, {
      idleCount: 1,
      idleTimeMs: 0,
      maxVms: 10,
      retryDelayMs: 10,
      log: (message) => events.push(message),
      ...options,
    });
    cleanups.push(async () => {
      await pool.dispose();
      await inner.releaseAll(); // what a failed test left handed out
      await rm(root, { recursive: true, force: true });
    });
    pool.start();
    return { inner, pool, events };
  }

  it('raising idle_count keeps the ready VM and boots the missing ones one at a time', async () => {
    const { inner, pool } = await setUp({ idleCount: 1, bootDelayMs: 100 });
    await waitFor(() => pool.counts().idle === 1, 5000, 'the first pooled VM');
    pool.resize({ idleCount: 3, idleTimeMs: 0, maxVms: 10 });
    await waitFor(() => pool.counts().booting === 1, 1000, 'the next boot to start at once');
    await waitFor(() => pool.counts().idle === 3, 5000, 'the pool to grow to 3');
    assert.deepEqual(inner.booted, ['pool-1', 'pool-2', 'pool-3']);
    assert.equal(inner.mostBootsAtOnce, 1, 'one boot at a time');
    assert.deepEqual(inner.released, [], 'no VM was replaced');
    const vm = await pool.acquire({ name: 'job1', log }, signal);
    assert.equal(vm.handle.vmId, 'pool-1', 'the VM ready before the resize serves the next job');
    await pool.release(vm);
  });

  it('lowering idle_count destroys surplus idle VMs, the oldest first, and never one in use', async () => {
    const { inner, pool } = await setUp({ idleCount: 3 });
    await waitFor(() => pool.counts().idle === 3, 5000, 'the pool to fill');
    const job = await pool.acquire({ name: 'job1', log }, signal);
    assert.equal(job.handle.vmId, 'pool-1');
    await waitFor(() => pool.counts().idle === 3, 5000, 'the refill');

    pool.resize({ idleCount: 1, idleTimeMs: 0, maxVms: 10 });
    assert.deepEqual(pool.counts(), { booting: 0, idle: 1, in_use: 1 });
    await waitFor(() => inner.released.length === 2, 5000, 'the surplus VMs to be destroyed');
    assert.deepEqual([...inner.released].sort(), ['pool-2', 'pool-3'], 'the two oldest idle VMs');
    assert.deepEqual(inner.running().sort(), ['pool-1', 'pool-4'], "the job's VM and the newest idle one");

    pool.resize({ idleCount: 0, idleTimeMs: 0, maxVms: 10 });
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 1 });
    await waitFor(() => inner.released.length === 3, 5000, 'the last idle VM to be destroyed');
    assert.deepEqual(inner.running(), ['pool-1'], 'the job keeps its VM');
    await pool.release(job);
    await pause(100);
    assert.deepEqual(inner.running(), [], 'idle_count = 0: nothing is booted after the job');
    assert.deepEqual(inner.booted, ['pool-1', 'pool-2', 'pool-3', 'pool-4']);
  });

  it('a shrink cancels a boot that would be one too many, without a failure or a retry pause', async () => {
    const { inner, pool, events } = await setUp({ idleCount: 1, bootDelayMs: 60_000, retryDelayMs: 60_000 });
    await waitFor(() => pool.counts().booting === 1 && inner.running().length === 1, 5000, 'a boot to start');
    pool.resize({ idleCount: 0, idleTimeMs: 0, maxVms: 10 });
    await waitFor(() => pool.counts().booting === 0 && inner.released.length === 1, 5000, 'the boot to be undone');
    assert.deepEqual(inner.running(), []);
    assert.deepEqual(inner.aborted, ['pool-1']);
    assert.ok(!events.includes('booting a pooled VM failed'), events.join(', '));

    pool.resize({ idleCount: 1, idleTimeMs: 0, maxVms: 10 });
    await waitFor(() => pool.counts().booting === 1, 1000, 'the next boot, without the 60 s retry pause');
  });

  it('a new idle_time applies to the VMs already idle, from when they became ready', async () => {
    const { inner, pool } = await setUp({ idleCount: 1, idleTimeMs: 0 });
    await waitFor(() => pool.counts().idle === 1, 5000, 'the first pooled VM');
    await pause(300);
    pool.resize({ idleCount: 1, idleTimeMs: 200, maxVms: 10 });
    await waitFor(() => inner.released.includes('pool-1'), 1000, 'the VM that already waited 300 ms to be replaced');
    await waitFor(() => pool.counts().idle === 1, 5000, 'its replacement');

    pool.resize({ idleCount: 1, idleTimeMs: 60_000, maxVms: 10 });
    await pause(400);
    assert.deepEqual(inner.released, ['pool-1'], 'a longer idle_time keeps the waiting VM');
    pool.resize({ idleCount: 1, idleTimeMs: 0, maxVms: 10 });
    await pause(100);
    assert.equal(pool.counts().idle, 1);
    assert.deepEqual(inner.released, ['pool-1'], 'idle_time = 0: never replaced');
  });

  it('a lower VM budget (limit) destroys the idle VMs beyond it', async () => {
    const { inner, pool } = await setUp({ idleCount: 2, maxVms: 3 });
    await waitFor(() => pool.counts().idle === 2, 5000, 'the pool to fill');
    const job = await pool.acquire({ name: 'job1', log }, signal);
    await waitFor(() => pool.counts().idle === 2, 5000, 'the refill within the budget');
    pool.resize({ idleCount: 2, idleTimeMs: 0, maxVms: 2 });
    assert.deepEqual(pool.counts(), { booting: 0, idle: 1, in_use: 1 });
    await pool.release(job);
    await waitFor(() => pool.counts().idle === 2, 5000, 'the refill once the job is done');
    assert.equal(inner.running().length, 2, 'never more than maxVms');
  });

  it('a pool started with idle_count = 0 fills when resized up; after dispose a resize does nothing', async () => {
    const { inner, pool } = await setUp({ idleCount: 0 });
    await pause(100);
    assert.deepEqual(inner.booted, []);
    pool.resize({ idleCount: 1, idleTimeMs: 0, maxVms: 10 });
    await waitFor(() => pool.counts().idle === 1, 5000, 'the pool to fill');
    await pool.dispose();
    pool.resize({ idleCount: 2, idleTimeMs: 0, maxVms: 10 });
    await pause(100);
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 0 });
    assert.deepEqual(inner.running(), []);
  });
});
