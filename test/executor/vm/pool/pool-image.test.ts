// A warm pool whose VMs boot with the runner's default image (prepareBoot), against the
// process-backed provider: the pooled VM is keyed by the image's digest and root setup, a job asking
// for exactly that takes it, any other boots cold, and the image's store lease is let go when a job
// takes the VM, when the pool destroys it, and when its boot fails.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PooledVmProvider, type WarmPoolOptions } from '../../../../src/executor/vm/index.js';
import type { PooledBootSpec } from '../../../../src/executor/vm/pool/pooled-vm-provider.js';
import { waitFor } from '../../../support/wait-for.js';
import { ProcessVmProvider } from '../support/process-vm-provider.js';

const signal = new AbortController().signal;
const log = () => undefined;
const IMAGE = { imageDigest: 'sha256:' + 'a'.repeat(64), imageDisk: '/store/a/rootfs.ext4', bootCommand: ['sh', '-c', 'mount it'] };

describe('a warm pool booted with the default image', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  async function setUp(options: Partial<WarmPoolOptions> = {}) {
    const root = await mkdtemp(join(tmpdir(), 'tart-pool-image-'));
    const inner = new ProcessVmProvider(root);
    const leases = { held: 0, released: [] as number[] };
    let next = 0;
    const prepareBoot = async (): Promise<PooledBootSpec> => {
      const lease = (next += 1);
      leases.held += 1;
      return {
        request: IMAGE,
        release: () => {
          leases.held -= 1;
          leases.released.push(lease);
        },
      };
    };
    const pool = new PooledVmProvider(inner, { idleCount: 1, idleTimeMs: 0, maxVms: 10, retryDelayMs: 10, prepareBoot, ...options });
    cleanups.push(async () => {
      await pool.dispose();
      await inner.releaseAll();
      await rm(root, { recursive: true, force: true });
    });
    pool.start();
    await waitFor(() => pool.counts().idle === 1, 5000, 'the pooled VM');
    return { inner, pool, leases };
  }

  it('hands its VM to a job asking for the same image and root setup, and lets go of the lease then', async () => {
    const { inner, pool, leases } = await setUp();
    assert.equal(leases.held, 1, 'the idle VM holds its image');
    const vm = await pool.acquire({ name: 'job1', log, ...IMAGE }, signal);
    assert.equal(vm.handle.vmId, 'pool-1');
    assert.match(vm.handle.pool?.key ?? '', /^default@sha256:a{64}#[0-9a-f]{12}$/);
    assert.deepEqual(leases.released, [1], "the pooled VM's lease went when the job took it (the job holds its own)");
    await pool.release(vm);
    await waitFor(() => pool.counts().idle === 1, 5000, 'the refill');
    assert.deepEqual(inner.booted, ['pool-1', 'pool-2']);
  });

  it('boots cold for the default root, another digest or another root setup', async () => {
    const { inner, pool } = await setUp();
    for (const request of [{}, { ...IMAGE, imageDigest: 'sha256:' + 'b'.repeat(64) }, { ...IMAGE, bootCommand: ['sh', '-c', 'mount it as node'] }]) {
      const vm = await pool.acquire({ name: 'cold', log, ...request }, signal);
      assert.match(vm.handle.vmId, /^cold-/);
      await pool.release(vm);
    }
    assert.deepEqual(inner.booted.filter((id) => id.startsWith('pool')), ['pool-1']);
  });

  it('lets go of the lease when the pool destroys the VM (shrink, dispose) and when a boot fails', async () => {
    const { pool, leases } = await setUp();
    pool.resize({ idleCount: 0, idleTimeMs: 0, maxVms: 10 });
    await waitFor(() => leases.held === 0, 5000, 'the shrink to let go of the image');
    const failing = new ProcessVmProvider(await mkdtemp(join(tmpdir(), 'tart-pool-image-fail-')));
    failing.acquire = () => Promise.reject(new Error('boot failed'));
    const failingLeases = { held: 0 };
    const broken = new PooledVmProvider(failing, {
      idleCount: 1,
      idleTimeMs: 0,
      maxVms: 10,
      retryDelayMs: 60_000,
      prepareBoot: async () => {
        failingLeases.held += 1;
        return { request: IMAGE, release: () => (failingLeases.held -= 1) };
      },
    });
    broken.start();
    await waitFor(() => failingLeases.held === 0 && broken.counts().booting === 0, 5000, 'the failed boot to let go');
    await broken.dispose();
  });
});
