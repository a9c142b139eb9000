import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../src/errors.js';
import {
  CONTAINER_MODULE_TREES,
  GUEST_MODULES,
  moduleTreeClosure,
  initramfsModulePath,
  moduleNameOf,
  parseModuleIndex,
  readModuleIndex,
  readModuleObject,
  resolveModuleLoadOrder,
} from '../../src/image/modules.js';
import { spawnCommand } from '../../src/image/spawn.js';
import { hostKernelRelease } from './support.js';

const DEP = `kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/fs/overlayfs/overlay.ko.xz:
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
`;
const BUILTIN = 'kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n';

test('module names drop the directory and compression suffix and use underscores', () => {
  assert.equal(moduleNameOf('kernel/drivers/char/hw_random/virtio-rng.ko.xz'), 'virtio_rng');
  assert.equal(moduleNameOf('kernel/fs/overlayfs/overlay.ko.zst'), 'overlay');
  assert.equal(initramfsModulePath('kernel/fs/overlayfs/overlay.ko.zst'), 'lib/modules/overlay.ko');
});

test('dependencies load before their users, each module once, built-ins skipped', () => {
  const order = resolveModuleLoadOrder(parseModuleIndex(DEP, BUILTIN), GUEST_MODULES);
  const names = order.map(moduleNameOf);
  assert.deepEqual(names.slice(0, 3), ['virtio_ring', 'virtio', 'virtio_mmio']);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.indexOf('failover') < names.indexOf('net_failover'));
  assert.ok(names.indexOf('net_failover') < names.indexOf('virtio_net'));
  assert.ok(!names.includes('ext4'), 'ext4 is built in');
  assert.ok(names.includes('virtio_rng'));
});

test('a missing required module is an error, a missing optional one is skipped', () => {
  const index = parseModuleIndex(DEP, BUILTIN);
  assert.throws(
    () => resolveModuleLoadOrder(index, [{ name: 'vsock_does_not_exist' }]),
    (error: unknown) => hasCode(error, 'IMAGE_MODULE_MISSING'),
  );
  assert.deepEqual(resolveModuleLoadOrder(index, [{ name: 'vsock_does_not_exist', optional: true }]), []);
});

test('compressed modules are decompressed when read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-modules-test-'));
  try {
    await writeFile(join(dir, 'm.ko'), 'ELF-plain');
    const { spawnSync } = await import('node:child_process');
    spawnSync('sh', [
      '-c',
      `printf ELF-xz | xz -c > "${dir}/x.ko.xz" && printf ELF-zst | zstd -q -c > "${dir}/z.ko.zst"`,
    ]);
    const read = (path: string) => readModuleObject({ modulesDir: dir, path, run: spawnCommand });
    assert.equal((await read('m.ko')).toString(), 'ELF-plain');
    assert.equal((await read('x.ko.xz')).toString(), 'ELF-xz');
    assert.equal((await read('z.ko.zst')).toString(), 'ELF-zst');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the real Debian kernel provides every module the guest needs in a loadable order', async () => {
  const release = await hostKernelRelease();
  assert.ok(release, 'linux-image-cloud-amd64 must be installed (CI installs it)');
  const order = resolveModuleLoadOrder(await readModuleIndex(`/lib/modules/${release}`), GUEST_MODULES);
  const names = order.map(moduleNameOf);
  for (const needed of ['virtio_ring', 'virtio', 'virtio_mmio', 'virtio_blk', 'virtio_net', 'overlay']) {
    assert.ok(names.includes(needed), `${needed} in ${names.join(',')}`);
  }
  assert.ok(names.indexOf('virtio_ring') < names.indexOf('virtio'));
  assert.ok(names.indexOf('virtio') < names.indexOf('virtio_mmio'));
});

test('a module tree closure takes every module under the trees and what they depend on, once', () => {
  const index = parseModuleIndex(DEP, BUILTIN);
  assert.deepEqual(moduleTreeClosure(index, ['kernel/drivers/net/']), [
    'kernel/drivers/net/net_failover.ko',
    'kernel/drivers/net/virtio_net.ko',
    'kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_ring.ko',
    'kernel/net/core/failover.ko',
  ]);
  assert.deepEqual(moduleTreeClosure(index, ['kernel/sound/']), []);
});

test('the real Debian kernel has every module Docker in the job needs, with their dependencies', async () => {
  const release = await hostKernelRelease();
  assert.ok(release, 'linux-image-cloud-amd64 must be installed (CI installs it)');
  const index = await readModuleIndex(`/lib/modules/${release}`);
  const paths = moduleTreeClosure(index, CONTAINER_MODULE_TREES);
  const names = new Set(paths.map(moduleNameOf));
  for (const needed of ['bridge', 'br_netfilter', 'veth', 'overlay', 'nf_tables', 'nft_compat', 'nft_chain_nat', 'nf_nat', 'nf_conntrack', 'xt_addrtype', 'xt_conntrack', 'xt_MASQUERADE', 'ip_tables', 'iptable_nat', 'iptable_filter', 'ip6_tables', 'llc', 'stp']) {
    assert.ok(names.has(needed), `${needed} is carried`);
  }
  for (const path of paths) for (const dependency of index.dependencies.get(path) ?? []) assert.ok(paths.includes(dependency), `${dependency}, needed by ${path}`);
});
