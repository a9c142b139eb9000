// reapOrphans over fake runtime dirs: whose runner is gone, whose runner lives, which pid is a
// VMM of that dir (and which is a recycled pid that must be spared).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reapOrphans } from '../../../src/executor/vm/index.js';
import { writeState } from '../../../src/executor/vm/runtime-dir.js';
import { VmCgroups } from '../../../src/vmm/cgroup/vm-cgroups.js';
import { fakeCgroupHost } from '../../support/fake-cgroupfs.js';
import { processIsAlive } from './support/vm-test-env.js';
import { waitFor } from '../../support/wait-for.js';

describe('reapOrphans with fake runtime dirs', () => {
  let root: string;
  const children: ChildProcess[] = [];
  const deadPid = 2 ** 22 - 7; // above the default pid_max: never a live process

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tart-reap-'));
  });

  after(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  // A stand-in VMM: a sleeping process whose command line names `dir`, as QEMU's names its files.
  async function fakeVmm(dir: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 300_000)', `${dir}/qmp.sock`], {
      stdio: 'ignore',
    });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child;
  }

  async function runtimeDir(name: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, 'scratch.img'), '');
    return dir;
  }

  it("kills the VMM of a dead runner, removes its dir, and leaves a live runner's VM alone", async () => {
    const orphan = await runtimeDir('job1-orphan');
    const orphanVmm = await fakeVmm(orphan);
    await writeState(orphan, {
      vmId: 'job1-orphan',
      runnerPid: deadPid,
      vmmPid: orphanVmm.pid,
      createdAt: new Date().toISOString(),
    });
    const owned = await runtimeDir('job2-owned');
    const ownedVmm = await fakeVmm(owned);
    const liveRunner = await fakeVmm(join(root, 'unrelated'));
    await writeState(owned, {
      vmId: 'job2-owned',
      runnerPid: liveRunner.pid!,
      vmmPid: ownedVmm.pid,
      createdAt: new Date().toISOString(),
    });

    const result = await reapOrphans({ runtimeRoot: root });
    assert.deepEqual(result, { reaped: [orphan], killedPids: [orphanVmm.pid] });
    await waitFor(() => orphanVmm.signalCode === 'SIGKILL', 5000, 'the orphan VMM to die');
    await assert.rejects(access(orphan), { code: 'ENOENT' });
    assert.ok(processIsAlive(ownedVmm.pid!), "a live runner's VM is not touched");
    await access(join(owned, 'scratch.img'));
  });

  it("removes the orphan's cgroup once its VMM is killed, and leaves a live runner's", async (t) => {
    const cgroupfs = await mkdtemp(join(tmpdir(), 'tart-reap-cgroupfs-'));
    t.after(() => rm(cgroupfs, { recursive: true, force: true }));
    const host = await fakeCgroupHost(cgroupfs, { controllers: ['cpu', 'memory'] });
    const cgroups = new VmCgroups(host);
    const orphan = await runtimeDir('job5-orphan');
    const orphanVmm = await fakeVmm(orphan);
    await writeState(orphan, { vmId: 'job5-orphan', runnerPid: deadPid, vmmPid: orphanVmm.pid, createdAt: new Date().toISOString() });
    await cgroups.place('job5-orphan', orphanVmm.pid!, { memoryMb: 128, vcpus: 1, accel: 'kvm' });
    const owned = await runtimeDir('job6-owned');
    const ownedVmm = await fakeVmm(owned);
    const liveRunner = await fakeVmm(join(root, 'unrelated-6'));
    await writeState(owned, { vmId: 'job6-owned', runnerPid: liveRunner.pid!, vmmPid: ownedVmm.pid, createdAt: new Date().toISOString() });
    await cgroups.place('job6-owned', ownedVmm.pid!, { memoryMb: 128, vcpus: 1, accel: 'kvm' });

    const result = await reapOrphans({ runtimeRoot: root, cgroups });
    assert.deepEqual(result.reaped, [orphan]);
    await assert.rejects(access(join(host.mount, 'tart', 'job5-orphan')), { code: 'ENOENT' });
    await access(join(host.mount, 'tart', 'job6-owned', 'cgroup.procs'));
  });

  it('never kills a recycled pid whose command line does not name the dir, but still removes the dir', async () => {
    const dir = await runtimeDir('job3-recycled');
    const stranger = await fakeVmm(join(root, 'somewhere-else'));
    await writeState(dir, {
      vmId: 'job3-recycled',
      runnerPid: deadPid,
      vmmPid: stranger.pid,
      createdAt: new Date().toISOString(),
    });
    const result = await reapOrphans({ runtimeRoot: root });
    assert.deepEqual(result.reaped, [dir]);
    assert.deepEqual(result.killedPids, []);
    assert.ok(processIsAlive(stranger.pid!));
  });

  it('falls back to qemu.pid when the state has no VMM pid, and reaps a dir without any state', async () => {
    const fromPidFile = await runtimeDir('job4-pidfile');
    const vmm = await fakeVmm(fromPidFile);
    await writeState(fromPidFile, {
      vmId: 'job4-pidfile',
      runnerPid: deadPid,
      createdAt: new Date().toISOString(),
    });
    await writeFile(join(fromPidFile, 'qemu.pid'), `${vmm.pid}\n`);
    const stateless = await runtimeDir('job5-stateless');
    const result = await reapOrphans({ runtimeRoot: root });
    assert.deepEqual([...result.reaped].sort(), [fromPidFile, stateless].sort());
    assert.deepEqual(result.killedPids, [vmm.pid]);
    await waitFor(() => vmm.signalCode === 'SIGKILL', 5000, 'the VMM to die');
  });

  it('skips dirs of this very process, and copes with a missing root', async () => {
    const mine = await runtimeDir('job6-mine');
    await writeState(mine, {
      vmId: 'job6-mine',
      runnerPid: process.pid,
      createdAt: new Date().toISOString(),
    });
    const result = await reapOrphans({ runtimeRoot: root, isAlive: () => false });
    assert.equal(result.reaped.includes(mine), false);
    assert.deepEqual(await reapOrphans({ runtimeRoot: join(root, 'missing') }), {
      reaped: [],
      killedPids: [],
    });
  });
});
