import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { hasCode } from '../../src/errors.js';
import { spawnCommand } from '../../src/image/spawn.js';
import { extractVmlinux, inspectElfKernel, locateBzImagePayload } from '../../src/image/vmlinux.js';
import { hostKernelRelease, makeBzImage, makeElfKernel } from './support.js';

test("the real Debian cloud kernel's bzImage yields an x86-64 ELF vmlinux with a PVH note", async () => {
  const release = await hostKernelRelease();
  assert.ok(release, 'linux-image-cloud-amd64 must be installed (CI installs it)');
  const bzImage = await readFile(`/boot/vmlinuz-${release}`);
  const { vmlinux, payload, elf } = await extractVmlinux({ bzImage, run: spawnCommand });
  assert.equal(payload.compression, 'lz4');
  assert.equal(vmlinux.readUInt32BE(0), 0x7f454c46);
  assert.equal(elf.hasPvhNote, true);
  assert.ok(vmlinux.length > bzImage.length * 2, 'uncompressed kernel is larger than the bzImage');
  // The kernel's own idea of the release is inside the image.
  assert.ok(vmlinux.includes(Buffer.from(`Linux version ${release}`)));
});

test('the extracted vmlinux passes readelf and shows the Xen PHYS32 entry note', async (t) => {
  const release = await hostKernelRelease();
  assert.ok(release);
  if (spawnSync('readelf', ['--version']).status !== 0) return t.skip('readelf (binutils) not installed');
  const { vmlinux } = await extractVmlinux({
    bzImage: await readFile(`/boot/vmlinuz-${release}`),
    run: spawnCommand,
  });
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const dir = await mkdtemp('/tmp/tart-vmlinux-test-');
  try {
    await writeFile(`${dir}/vmlinux`, vmlinux);
    const notes = spawnSync('readelf', ['-n', `${dir}/vmlinux`], { encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(notes.status, 0, notes.stderr);
    // binutils 2.40 has no name for XEN_ELFNOTE_PHYS32_ENTRY (0x12) and prints the number.
    assert.match(notes.stdout, /^\s*Xen\s+0x[0-9a-f]+\s+(Unknown note type: \(0x00000012\)|.*PHYS32)/im);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a gzip payload is located through the setup header and decompressed in-process', async () => {
  const elf = makeElfKernel({ pvh: false, padding: 1000 });
  const bzImage = makeBzImage(gzipSync(elf));
  const failIfCalled = async () => assert.fail('gzip needs no external tool');
  const result = await extractVmlinux({ bzImage, run: failIfCalled });
  assert.deepEqual(result.vmlinux, elf);
  assert.equal(result.payload.bootProtocol, '2.15');
  assert.equal(result.payload.offset, 2 * 512 + 64);
  assert.equal(result.elf.hasPvhNote, false);
});

test('an xz payload with the size trailer is decompressed with the xz tool and the size checked', async () => {
  const elf = makeElfKernel({ pvh: true, padding: 5000 });
  const xz = spawnSync('xz', ['-c', '--check=crc32'], { input: elf }).stdout;
  const good = await extractVmlinux({ bzImage: makeBzImage(xz, { trailer: elf.length }), run: spawnCommand });
  assert.deepEqual(good.vmlinux, elf);
  assert.equal(good.elf.hasPvhNote, true);
  await assert.rejects(
    extractVmlinux({ bzImage: makeBzImage(xz, { trailer: elf.length + 1 }), run: spawnCommand }),
    (error: unknown) => hasCode(error, 'IMAGE_VMLINUX_INVALID'),
  );
});

test('files that are not bzImages or not ELF kernels are rejected with stable codes', () => {
  assert.throws(
    () => locateBzImagePayload(Buffer.alloc(4096)),
    (error: unknown) => hasCode(error, 'IMAGE_NOT_BZIMAGE'),
  );
  const unknownCompression = makeBzImage(Buffer.from('not compressed at all'));
  assert.throws(
    () => locateBzImagePayload(unknownCompression),
    (error: unknown) => hasCode(error, 'IMAGE_NOT_BZIMAGE'),
  );
  assert.throws(
    () => inspectElfKernel(Buffer.alloc(128)),
    (error: unknown) => hasCode(error, 'IMAGE_VMLINUX_INVALID'),
  );
});
