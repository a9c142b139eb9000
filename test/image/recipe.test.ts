import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  imageRecipe,
  imageVersion,
  parseCpuinfoKhz,
  qemuKernelCmdline,
  recipeForManifest,
  FIRECRACKER_KERNEL_CMDLINE,
} from '../../src/image/recipe.js';
import { hasCode } from '../../src/errors.js';
import { parseKernelDependency } from '../../src/image/kernel.js';
import { defaultImageRoot } from '../../src/image/layout.js';

const KERNEL = {
  name: 'linux-image-6.1.0-56-cloud-amd64',
  version: '6.1.192-2',
  release: '6.1.0-56-cloud-amd64',
};
const base = () =>
  imageRecipe({ kernel: KERNEL, busyboxVersion: '1:1.35.0-4', initramfsInitSource: '#!/bin/sh\n' });

test('the same inputs always give the same 12-digit version', () => {
  assert.equal(imageVersion(base()), imageVersion(base()));
  assert.match(imageVersion(base()), /^[0-9a-f]{12}$/);
  // Key order does not matter, values do.
  const reordered = Object.fromEntries(Object.entries(base()).reverse()) as ReturnType<typeof base>;
  assert.equal(imageVersion(reordered), imageVersion(base()));
});

test('each input changes the version', () => {
  const reference = imageVersion(base());
  const variants = [
    { ...base(), kernelPackageVersion: '6.1.193-1' },
    { ...base(), packages: [...base().packages, 'jq'] },
    { ...base(), guestInit: `${base().guestInit}\n# edit` },
    { ...base(), initramfsInitSource: '#!/bin/sh\n# edit\n' },
    { ...base(), formatVersion: base().formatVersion + 1 },
    { ...base(), busyboxVersion: '1:1.36' },
  ];
  const versions = new Set(variants.map(imageVersion));
  assert.equal(versions.size, variants.length);
  assert.ok(!versions.has(reference));
});

test('the manifest records scripts by hash, not by text', () => {
  const recorded = recipeForManifest(base());
  assert.equal(recorded.guestInit, undefined);
  assert.match(String(recorded.guestInitSha256), /^[0-9a-f]{64}$/);
  assert.equal(recorded.kernelPackageVersion, '6.1.192-2');
});

test('kernel command lines differ only in how each VMM is ended, plus the TSC hint for QEMU', () => {
  assert.equal(
    qemuKernelCmdline(2096022),
    FIRECRACKER_KERNEL_CMDLINE.replace('reboot=k', 'reboot=t tsc_early_khz=2096022'),
  );
  assert.ok(!qemuKernelCmdline(undefined).includes('tsc_early_khz'));
  assert.equal(parseCpuinfoKhz('processor\t: 0\ncpu MHz\t\t: 2096.022\n'), 2096022);
  assert.equal(parseCpuinfoKhz('processor: 0\n'), undefined);
});

test("the meta package's Depends names the image package, its version and release", () => {
  assert.deepEqual(
    parseKernelDependency(
      'Package: linux-image-cloud-amd64\nDepends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n',
    ),
    KERNEL,
  );
  assert.throws(
    () => parseKernelDependency('Depends: something-else\n'),
    (error: unknown) => hasCode(error, 'IMAGE_KERNEL_UNAVAILABLE'),
  );
});

test('the default image root is $TART_IMAGE_DIR, else system-wide for root, else per user', () => {
  assert.equal(defaultImageRoot({ TART_IMAGE_DIR: '/x/images' }, 1000), '/x/images');
  assert.equal(defaultImageRoot({}, 0), '/var/lib/tart/images');
  assert.equal(
    defaultImageRoot({ XDG_DATA_HOME: '/home/u/.data' }, 1000, { exists: () => false }),
    '/home/u/.data/tart/images',
  );
});
