// Finding cgroup v2 and whether its root offers the cpu and memory controllers, on a fake
// cgroupfs laid out like a hybrid host's (v2 at /sys/fs/cgroup/unified), and on mountinfo texts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroup2MountOf, detectCgroupSupport } from '../../../src/vmm/cgroup/cgroup-support.js';
import { fakeCgroupHost } from '../../support/fake-cgroupfs.js';
import { withTempDir } from '../../support/temp-dir.js';

describe('cgroup2MountOf', () => {
  it('finds the cgroup2 mount of a unified host, a hybrid one, or none', () => {
    assert.equal(cgroup2MountOf('30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n'), '/sys/fs/cgroup');
    assert.equal(
      cgroup2MountOf(
        '33 31 0:28 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n',
      ),
      '/sys/fs/cgroup/unified',
    );
    assert.equal(cgroup2MountOf('33 31 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n'), undefined);
    assert.equal(cgroup2MountOf('41 31 0:38 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n'), '/mnt/cg two', 'octal escapes');
  });
});

describe('detectCgroupSupport', () => {
  it('is available where the cgroup2 root offers cpu and memory, with the Tart parent under it', () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] });
      const support = await detectCgroupSupport(host.fs, host.mountinfoPath);
      assert.deepEqual(support, {
        available: true,
        mount: host.mount,
        parent: `${host.mount}/tart`,
        controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
      });
    }));

  it('is not available on a host like this one (v2 offers only hugetlb), and says which controllers it has', () =>
    withTempDir(async (dir) => {
      const host = await fakeCgroupHost(dir, { controllers: ['hugetlb'] });
      const support = await detectCgroupSupport(host.fs, host.mountinfoPath);
      assert.equal(support.available, false);
      assert.deepEqual(support.controllers, ['hugetlb']);
      assert.equal(!support.available && support.reason, `${host.mount} lacks the cpu and memory controllers (controllers: hugetlb)`);
    }));

  it('names the one controller missing, and a host with no cgroup2 mount at all', () =>
    withTempDir(async (dir) => {
      const memoryOnly = await fakeCgroupHost(`${dir}/a`.replace('/a', ''), { controllers: ['memory', 'pids'] });
      const partial = await detectCgroupSupport(memoryOnly.fs, memoryOnly.mountinfoPath);
      assert.match(!partial.available ? partial.reason : '', /lacks the cpu controller \(controllers: memory pids\)$/);
      const none = await fakeCgroupHost(dir, { controllers: ['cpu', 'memory'], mounted: false });
      assert.deepEqual(await detectCgroupSupport(none.fs, none.mountinfoPath), {
        available: false,
        reason: 'no cgroup v2 filesystem mounted',
        controllers: [],
      });
    }));
});
