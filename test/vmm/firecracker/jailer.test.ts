import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../../src/errors.js';
import {
  buildJailerArgv,
  jailRoot,
  removeJail,
  stageJailFiles,
  type JailerOptions,
} from '../../../src/vmm/firecracker/jailer.js';
import { planVmLayout } from '../../../src/vmm/firecracker/vm-layout.js';
import {
  assertUnixSocketPathFits,
  MAX_UNIX_SOCKET_PATH_BYTES,
} from '../../../src/vmm/firecracker/unix-socket-path.js';
import { planBoot } from '../../../src/vmm/firecracker/boot-plan.js';
import { makeVmFixture } from './fixtures.js';

const JAILER: JailerOptions = {
  jailerBinary: '/usr/bin/jailer',
  firecrackerBinary: '/usr/bin/firecracker',
  uid: 10_123,
  gid: 10_123,
  chrootBase: '/srv/jl',
};

test('jailer argv: id, exec file, uid/gid, chroot base, cgroup v2, then firecracker args after --', () => {
  assert.deepEqual(buildJailerArgv(JAILER, 'job-7', ['--api-sock', '/api.sock']), [
    '--id',
    'job-7',
    '--exec-file',
    '/usr/bin/firecracker',
    '--uid',
    '10123',
    '--gid',
    '10123',
    '--chroot-base-dir',
    '/srv/jl',
    '--cgroup-version',
    '2',
    '--',
    '--api-sock',
    '/api.sock',
  ]);
  assert.deepEqual(buildJailerArgv({ ...JAILER, netns: '/var/run/netns/tart7' }, 'job-7', []).slice(12), [
    '--netns',
    '/var/run/netns/tart7',
    '--',
  ]);
});

test('a jailed layout gives Firecracker chroot-relative paths and the host the paths inside <base>/firecracker/<id>/root', async () => {
  const fixture = await makeVmFixture('job-7');
  try {
    const layout = planVmLayout(fixture.spec, JAILER);
    assert.equal(jailRoot(JAILER, 'job-7'), '/srv/jl/firecracker/job-7/root');
    assert.deepEqual(layout.host, {
      apiSocket: '/srv/jl/firecracker/job-7/root/api.sock',
      vsock: '/srv/jl/firecracker/job-7/root/v.sock',
      log: '/srv/jl/firecracker/job-7/root/firecracker.log',
    });
    const bootSource = planBoot({
      kernelPath: layout.inVmm.kernel,
      initrdPath: layout.inVmm.initrd,
      bootArgs: 'console=ttyS0',
      drives: layout.inVmm.drives,
      vcpus: 1,
      memoryMb: 128,
      vsock: { guestCid: 3, udsPath: layout.inVmm.vsock },
      logPath: layout.inVmm.log,
    }).find((request) => request.path === '/boot-source');
    assert.deepEqual(bootSource?.body, {
      kernel_image_path: '/vmlinux',
      initrd_path: '/initrd.img',
      boot_args: 'console=ttyS0',
    });
    assert.deepEqual(
      layout.jailFiles.filter((file) => file.ownedByJail).map((file) => file.jailPath),
      ['/scratch.img', '/seed.tar'],
    );
  } finally {
    await fixture.cleanup();
  }
});

test('socket paths over 107 bytes fail clearly, before anything is created', async () => {
  const fixture = await makeVmFixture('job-7');
  try {
    assert.doesNotThrow(() =>
      assertUnixSocketPathFits(`/${'a'.repeat(MAX_UNIX_SOCKET_PATH_BYTES - 1)}`, 'test'),
    );
    const longBase = { ...JAILER, chrootBase: `/srv/${'b'.repeat(60)}` };
    assert.throws(
      () => planVmLayout({ ...fixture.spec, id: 'x'.repeat(40) }, longBase),
      (error: unknown) => {
        assert.ok(hasCode(error, 'FIRECRACKER_SOCKET_PATH_TOO_LONG'));
        assert.equal(error.details.limit, 107);
        assert.ok((error.details.bytes as number) > 107);
        return true;
      },
    );
    const deepRuntime = { ...fixture.spec, runtimeDir: join(fixture.dir, 'r'.repeat(100)) };
    assert.throws(
      () => planVmLayout(deepRuntime),
      (error: unknown) => hasCode(error, 'FIRECRACKER_SOCKET_PATH_TOO_LONG'),
    );
  } finally {
    await fixture.cleanup();
  }
});

test('staging hard-links every file into the chroot, hands per-VM files to the jail uid, and removeJail deletes it all', async () => {
  const fixture = await makeVmFixture('job-7');
  const base = await mkdtemp(join(tmpdir(), 'tfc-jail-'));
  try {
    const jailer = { ...JAILER, chrootBase: base };
    const chowned: string[] = [];
    const layout = planVmLayout(fixture.spec, jailer);
    await stageJailFiles(jailer, 'job-7', layout.jailFiles, {
      chown: async (path, uid, gid) => {
        assert.deepEqual([uid, gid], [10_123, 10_123]);
        chowned.push(path.slice(base.length));
      },
    });
    const root = jailRoot(jailer, 'job-7');
    const original = await stat(fixture.spec.disks.rootfs);
    const linked = await stat(join(root, 'rootfs.ext4'));
    assert.equal(linked.ino, original.ino); // a hard link, not a copy
    assert.equal(await readFile(join(root, 'seed.tar'), 'utf8'), 'seed');
    assert.deepEqual(chowned, [
      '/firecracker/job-7/root',
      '/firecracker/job-7/root/scratch.img',
      '/firecracker/job-7/root/seed.tar',
    ]);
    await removeJail(jailer, 'job-7');
    await assert.rejects(stat(join(base, 'firecracker', 'job-7')), /ENOENT/);
    assert.equal((await stat(fixture.spec.disks.rootfs)).nlink, 1); // the image file itself is untouched
  } finally {
    await rm(base, { recursive: true, force: true });
    await fixture.cleanup();
  }
});

test('staging a file that does not exist fails with FIRECRACKER_JAIL_SETUP_FAILED', async () => {
  const base = await mkdtemp(join(tmpdir(), 'tfc-jail-'));
  try {
    await writeFile(join(base, 'present'), 'x');
    await assert.rejects(
      stageJailFiles(
        { ...JAILER, chrootBase: base },
        'job-8',
        [{ hostPath: join(base, 'missing'), jailPath: '/vmlinux', ownedByJail: false }],
        {
          chown: async () => undefined,
        },
      ),
      (error: unknown) => hasCode(error, 'FIRECRACKER_JAIL_SETUP_FAILED'),
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
