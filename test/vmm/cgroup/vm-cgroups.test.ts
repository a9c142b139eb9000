// A cgroup per VM on a fake cgroupfs: the Tart parent gets cpu and memory for its children, each
// VM's cgroup its memory.max (guest + QEMU overhead, + TCG's translation buffer) and cpu.max
// (its vCPUs), the VMM's pid, and is removed once that process is gone. Without the controllers
// nothing is written and it is logged once. Real limits are exercised only on a host whose
// cgroup v2 offers cpu and memory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hasCode } from '../../../src/errors.js';
import { cgroupLimitsFor, VmCgroups, VMM_MEMORY_OVERHEAD_MB } from '../../../src/vmm/cgroup/vm-cgroups.js';
import { fakeCgroupHost } from '../../support/fake-cgroupfs.js';
import { withTempDir } from '../../support/temp-dir.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('cgroupLimitsFor', () => {
  it("allows the guest's memory plus QEMU's overhead, and one CPU period per vCPU", () => {
    assert.deepEqual(cgroupLimitsFor({ memoryMb: 2048, vcpus: 2, accel: 'kvm' }, 16 * GiB), {
      memoryMax: String((2048 + VMM_MEMORY_OVERHEAD_MB) * MiB),
      cpuMax: '200000 100000',
    });
  });

  it("adds TCG's translation buffer: host RAM / 8, at most 1 GiB", () => {
    assert.equal(cgroupLimitsFor({ memoryMb: 1024, vcpus: 1, accel: 'tcg' }, 24 * GiB).memoryMax, String((1024 + 256 + 1024) * MiB));
    assert.equal(cgroupLimitsFor({ memoryMb: 1024, vcpus: 1, accel: 'tcg' }, 4 * GiB).memoryMax, String((1024 + 256 + 512) * MiB));
    assert.equal(cgroupLimitsFor({ memoryMb: 512, vcpus: 4, accel: 'tcg' }, 4 * GiB).cpuMax, '400000 100000');
  });
});

// A process standing for the VMM: alive until killed.
async function vmmStandIn() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const exited = once(child, 'exit');
  return { pid: child.pid ?? 0, kill: async () => void (child.kill('SIGKILL'), await exited) };
}

describe('VmCgroups', () => {
  it("makes <root>/tart/<vm>, enables cpu and memory for it, writes the limits and the pid, and removes it after the exit", () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['cpu', 'io', 'memory', 'pids'] });
      const logs: string[] = [];
      const cgroups = new VmCgroups({ ...host, hostMemoryBytes: 8 * GiB, log: (message) => logs.push(message) });
      const vmm = await vmmStandIn();
      const cgroup = await cgroups.place('runner-7-job-12-ab12cd34', vmm.pid, { memoryMb: 1024, vcpus: 2, accel: 'tcg' });
      assert.ok(cgroup);
      const path = join(host.mount, 'tart', 'runner-7-job-12-ab12cd34');
      assert.equal(cgroup.path, path);
      assert.equal((await readFile(join(host.mount, 'cgroup.subtree_control'), 'utf8')).trim(), 'cpu memory');
      assert.equal((await readFile(join(host.mount, 'tart', 'cgroup.subtree_control'), 'utf8')).trim(), 'cpu memory');
      assert.equal(await readFile(join(path, 'memory.max'), 'utf8'), String((1024 + 256 + 1024) * MiB));
      assert.equal(await readFile(join(path, 'cpu.max'), 'utf8'), '200000 100000');
      assert.equal((await readFile(join(path, 'cgroup.procs'), 'utf8')).trim(), String(vmm.pid));
      const removing = cgroup.remove();
      await new Promise((resolve) => setTimeout(resolve, 60));
      await access(path);
      await vmm.kill();
      await removing;
      await assert.rejects(access(path), 'removed once the VMM is gone (EBUSY before)');
      assert.equal((await readdir(join(host.mount, 'tart'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).length, 0);
      assert.deepEqual(logs, []);
    }));

  it('keeps a root whose subtree already has the controllers, and two VMs get a cgroup each', () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['cpu', 'memory'] });
      await host.fs.write(join(host.mount, 'cgroup.subtree_control'), '+memory +cpu');
      const cgroups = new VmCgroups(host);
      const [a, b] = [await vmmStandIn(), await vmmStandIn()];
      const first = await cgroups.place('vm-a', a.pid, { memoryMb: 256, vcpus: 1, accel: 'kvm' });
      const second = await cgroups.place('vm/../b', b.pid, { memoryMb: 256, vcpus: 1, accel: 'kvm' });
      assert.equal(second?.path, join(host.mount, 'tart', 'vm_.._b'), 'a vm id never leaves the parent');
      assert.equal(await readFile(join(host.mount, 'tart', 'vm-a', 'memory.max'), 'utf8'), String(512 * MiB));
      await Promise.all([a.kill(), b.kill()]);
      await Promise.all([first?.remove(), second?.remove()]);
    }));

  it('writes nothing where the controllers are missing (this host: hugetlb only), and logs that once', () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['hugetlb'] });
      const logs: Array<{ message: string; fields?: Record<string, unknown> }> = [];
      const cgroups = new VmCgroups({ ...host, log: (message, fields) => logs.push({ message, fields }) });
      for (const id of ['vm-1', 'vm-2', 'vm-3']) {
        assert.equal(await cgroups.place(id, process.pid, { memoryMb: 256, vcpus: 1, accel: 'tcg' }), undefined);
      }
      assert.deepEqual(await readdir(host.mount), ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control']);
      assert.equal(logs.length, 1);
      assert.equal(
        logs[0]?.message,
        `cgroup limits: not available (${host.mount} lacks the cpu and memory controllers (controllers: hugetlb)); VMs run without CPU and memory limits`,
      );
      assert.deepEqual(logs[0]?.fields, { controllers: 'hugetlb' });
    }));

  it('counts a parent it cannot make as no limits, and fails the VM when a limit cannot be written', () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['cpu', 'memory'] });
      const readOnly = new VmCgroups({
        ...host,
        fs: { ...host.fs, mkdir: async (path) => Promise.reject(Object.assign(new Error(`EROFS: ${path}`), { code: 'EROFS' })) },
      });
      const support = await readOnly.support();
      assert.equal(support.available, false);
      assert.match(!support.available ? support.reason : '', /^cannot prepare .*\/tart: EROFS/);
      const broken = new VmCgroups({
        ...host,
        fs: { ...host.fs, write: async (path, text) => (path.endsWith('cpu.max') ? Promise.reject(new Error('EINVAL')) : host.fs.write(path, text)) },
      });
      await assert.rejects(broken.place('vm-x', process.pid, { memoryMb: 256, vcpus: 1, accel: 'kvm' }), (error: unknown) => {
        assert.ok(hasCode(error, 'VM_CGROUP_FAILED'));
        assert.match(error.message, /cannot limit VM vm-x in cgroup .*\/tart\/vm-x: EINVAL/);
        return true;
      });
      await assert.rejects(access(join(host.mount, 'tart', 'vm-x')), 'the half-made cgroup is gone');
    }));
});
