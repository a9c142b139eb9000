// The warm pool with real QEMU guests under TCG: with idle_count = 1 a job gets a pooled VM
// that booted before it asked, the pool refills while the job runs, each pooled VM serves one
// job only (the next job gets a different VM: another boot_id, none of the first job's files),
// and dispose() leaves no QEMU and no runtime dir.
// Boots three VMs under TCG (slow): run under `flock /tmp/tart-vm.lock`.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isTheVmm } from '../../../../src/executor/vm/detached-vmm.js';
import { FreshVmProvider, PooledVmProvider, type AcquiredVm } from '../../../../src/executor/vm/index.js';
import { listPooledVms } from '../../../../src/executor/vm/pool/pooled-vms.js';
import { QemuVmm } from '../../../../src/vmm/qemu/qemu-vmm.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  listFilesBelow,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from '../support/vm-test-env.js';
import { waitFor } from '../../../support/wait-for.js';

const BOOT_MS = 240_000;

describe('the warm pool (real guests under TCG)', () => {
  let runtimeRoot: string;
  let pool: PooledVmProvider | undefined;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('vm-pool');
  });

  after(async () => {
    await pool?.dispose();
    for (const vm of await qemuProcessesMentioning(runtimeRoot)) process.kill(vm.pid, 'SIGKILL');
    await removeTestRuntimeRoot(runtimeRoot);
  });

  it('hands a ready VM to one job only, refills, and leaves nothing after dispose', async () => {
    const fresh = new FreshVmProvider({
      vmm: new QemuVmm({ accel: 'auto' }),
      imageDir: IMAGE_DIR,
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 1024,
      bootTimeoutSeconds: 240,
      runtimeRoot,
    });
    const events: string[] = [];
    pool = new PooledVmProvider(fresh, {
      idleCount: 1,
      idleTimeMs: 0,
      maxVms: 2,
      log: (message) => events.push(message),
    });
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 0 }, 'nothing boots before start()');
    pool.start();
    await waitFor(() => pool?.counts().booting === 1, 10_000, 'the pool to start booting');
    await waitFor(() => pool?.counts().idle === 1, BOOT_MS, 'the first pooled VM');
    const [pooledOnHost] = await listPooledVms(runtimeRoot);
    assert.equal(pooledOnHost?.state, 'idle', 'the handle marks the VM as pooled and idle');
    assert.equal(pooledOnHost.ownerAlive, true);

    const trace: string[] = [];
    const started = Date.now();
    const first = await pool.acquire({ name: 'job1', log: (line) => trace.push(line) }, new AbortController().signal);
    const acquireMs = Date.now() - started;
    assert.equal(first.handle.vmId, pooledOnHost.vmId, 'the job got the VM booted before it asked');
    assert.ok(acquireMs < 2000, `taking a pooled VM is not a boot (${acquireMs} ms)`);
    assert.match(trace.join('\n'), new RegExp(`Using pooled VM ${first.handle.vmId} \\(ready for`));
    assert.doesNotMatch(trace.join('\n'), /Starting VM/, 'no VM was booted for the job');
    assert.equal(pool.counts().in_use, 1);
    const firstBootId = await run(first, 'cat /proc/sys/kernel/random/boot_id');
    await run(first, 'echo first-job > /root/left-by-job1');

    await waitFor(() => pool?.counts().idle === 1, BOOT_MS, 'the pool to refill while job 1 runs');
    assert.deepEqual(pool.counts(), { booting: 0, idle: 1, in_use: 1 }, 'within maxVms = 2 the pool stops');
    await pool.release(first);
    assert.equal(isTheVmm(first.handle), false, 'the used VM is destroyed, not returned to the pool');
    assert.equal((await listFilesBelow(first.handle.runtimeDir)).length, 0);

    const second = await pool.acquire({ name: 'job2', log: (line) => trace.push(line) }, new AbortController().signal);
    assert.notEqual(second.handle.vmId, first.handle.vmId, 'a pooled VM is never used twice');
    assert.notEqual(await run(second, 'cat /proc/sys/kernel/random/boot_id'), firstBootId);
    assert.equal(await run(second, 'cat /root/left-by-job1 2>/dev/null || echo clean'), 'clean');
    await pool.release(second);

    await pool.dispose();
    assert.deepEqual(pool.counts(), { booting: 0, idle: 0, in_use: 0 });
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), [], 'no QEMU is left after dispose()');
    assert.deepEqual(await listFilesBelow(runtimeRoot), [], 'no runtime dir is left');
    assert.ok(events.filter((event) => event === 'pooled VM ready').length >= 2, events.join(', '));

    const cold = await pool.acquire({ name: 'job3', log: (line) => trace.push(line) }, new AbortController().signal);
    assert.match(cold.handle.vmId, /^job3-/, 'after dispose a job boots cold');
    await pool.release(cold);
  });
});

async function run(vm: AcquiredVm, script: string): Promise<string> {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const { exitCode } = await vm.channel.exec({ command: ['sh', '-c', script], stdout });
  assert.equal(exitCode, 0, `${script} exited ${exitCode}`);
  return text.trim();
}
