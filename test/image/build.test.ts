import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, open, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildImage } from '../../src/image/build.js';
import { IMAGE_FILES, readImageManifest, verifyImage } from '../../src/image/layout.js';
import type { CommandRequest, CommandResult, CommandRunner } from '../../src/image/spawn.js';
import { hasCode } from '../../src/errors.js';
import { makeBzImage, makeElfKernel } from './support.js';

const MODULES_DEP = [
  'kernel/drivers/virtio/virtio_ring.ko:',
  'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/fs/overlayfs/overlay.ko:',
  '',
].join('\n');

/**
 * A fake Debian host: apt answers with `kernelVersion`, and each build tool leaves the files the
 * real one would (a synthetic bzImage and modules, a tiny tree, an "ext4" file).
 */
function fakeHost(state: { kernelVersion: string; calls: CommandRequest[] }): CommandRunner {
  const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout: Buffer.from(stdout), stderr: '' });
  return async (request) => {
    state.calls.push(request);
    const release = `${state.kernelVersion}-cloud-amd64`;
    const args = request.args;
    switch (request.command) {
      case 'apt-cache':
        if (args[0] === 'policy')
          return ok(`linux-image-cloud-amd64:\n  Installed: (none)\n  Candidate: ${state.kernelVersion}\n`);
        return ok(
          `Package: linux-image-cloud-amd64\nDepends: linux-image-${release} (= ${state.kernelVersion})\n`,
        );
      case 'dpkg-query':
        if (args.includes('busybox-static')) return ok('1:1.35.0-4');
        return { exitCode: 1, stdout: Buffer.alloc(0), stderr: 'no packages found' };
      case 'apt-get': {
        const [name, version] = (args[1] ?? '').split('=');
        await writeFile(join(request.cwd ?? '.', `${name}_${version}_amd64.deb`), 'deb');
        return ok();
      }
      case 'dpkg-deb': {
        const root = args[2] ?? '';
        const modules = join(root, 'lib', 'modules', release);
        await mkdir(join(root, 'boot'), { recursive: true });
        await writeFile(
          join(root, 'boot', `vmlinuz-${release}`),
          makeBzImage(gzipSync(makeElfKernel({ pvh: true }))),
        );
        for (const line of MODULES_DEP.split('\n').filter(Boolean)) {
          const path = join(modules, line.slice(0, line.indexOf(':')));
          await mkdir(join(path, '..'), { recursive: true });
          await writeFile(path, `module ${path}`);
        }
        await writeFile(join(modules, 'modules.dep'), MODULES_DEP);
        await writeFile(join(modules, 'modules.builtin'), 'kernel/fs/ext4/ext4.ko\n');
        return ok();
      }
      case 'mmdebstrap': {
        const target = args[args.length - 2] ?? '';
        await mkdir(join(target, 'etc'), { recursive: true });
        await writeFile(join(target, 'etc', 'os-release'), 'bookworm');
        return ok();
      }
      case 'mkfs.ext4':
        await writeFile(args[args.length - 2] ?? '', 'ext4 image');
        return ok();
      default:
        throw new Error(`unexpected command ${request.command}`);
    }
  };
}

async function withImageRoot(body: (root: string, aptDir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-image-build-test-'));
  try {
    const aptDir = join(dir, 'apt');
    await mkdir(aptDir);
    await writeFile(join(aptDir, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    await body(join(dir, 'images'), aptDir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const countOf = (calls: CommandRequest[], command: string): number =>
  calls.filter((call) => call.command === command).length;

test('a first build writes a complete, verifiable image and points current at it', async () => {
  await withImageRoot(async (root, aptDir) => {
    const state = { kernelVersion: '9.9.9-1', calls: [] as CommandRequest[] };
    const lines: string[] = [];
    const result = await buildImage({
      outputRoot: root,
      aptDir,
      run: fakeHost(state),
      log: (line) => lines.push(line),
    });
    assert.equal(result.built, true);
    assert.match(result.version, /^[0-9a-f]{12}$/);
    assert.equal(await readlink(join(root, 'current')), result.version);
    const manifest = await readImageManifest(join(root, 'current'));
    assert.equal(manifest.kernelRelease, '9.9.9-1-cloud-amd64');
    assert.equal(manifest.vmlinuxPvh, true);
    assert.match(manifest.kernelCmdline, /console=ttyS0 root=\/dev\/vda ro .*reboot=t/);
    assert.match(manifest.kernelCmdlineFirecracker, /reboot=k/);
    assert.deepEqual(manifest.inputs.initramfsModules, [
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_mmio.ko',
      'kernel/drivers/block/virtio_blk.ko',
      'kernel/drivers/net/virtio_net.ko',
      'kernel/fs/overlayfs/overlay.ko',
    ]);
    assert.deepEqual(await verifyImage(join(root, 'current')), { ok: true, manifest, problems: [] });
    assert.ok(
      lines.some((line) => /^mmdebstrap: done \(\d+\.\d s\)$/.test(line)),
      lines.join('\n'),
    );
    assert.ok(lines.some((line) => /^mkfs\.ext4: done \(\d+\.\d s\)$/.test(line)));
    // Nothing but the version directory and `current` (and the kernel cache) is left behind.
    assert.deepEqual((await readdir(root)).sort(), ['.cache', 'current', result.version].sort());
  });
});

test('an unchanged recipe is not rebuilt, a changed input is, and --force always is', async () => {
  await withImageRoot(async (root, aptDir) => {
    const state = { kernelVersion: '9.9.9-1', calls: [] as CommandRequest[] };
    const first = await buildImage({ outputRoot: root, aptDir, run: fakeHost(state) });

    const lines: string[] = [];
    const again = await buildImage({
      outputRoot: root,
      aptDir,
      run: fakeHost(state),
      log: (line) => lines.push(line),
    });
    assert.equal(again.built, false);
    assert.equal(again.version, first.version);
    assert.equal(countOf(state.calls, 'mmdebstrap'), 1);
    assert.ok(lines.some((line) => line.startsWith('image up to date')));

    state.kernelVersion = '9.9.10-1';
    const updated = await buildImage({ outputRoot: root, aptDir, run: fakeHost(state) });
    assert.equal(updated.built, true);
    assert.notEqual(updated.version, first.version);
    assert.equal(await readlink(join(root, 'current')), updated.version);
    assert.equal(countOf(state.calls, 'mmdebstrap'), 2);
    await access(join(root, first.version, IMAGE_FILES.manifest)); // older versions stay for running VMs

    const forced = await buildImage({ outputRoot: root, aptDir, run: fakeHost(state), force: true });
    assert.equal(forced.built, true);
    assert.equal(forced.version, updated.version);
    assert.equal(countOf(state.calls, 'mmdebstrap'), 3);
    assert.equal(countOf(state.calls, 'apt-get'), 2, 'the downloaded kernel is cached per version');
  });
});

test('a damaged image directory is rebuilt instead of reported up to date', async () => {
  await withImageRoot(async (root, aptDir) => {
    const state = { kernelVersion: '9.9.9-1', calls: [] as CommandRequest[] };
    const first = await buildImage({ outputRoot: root, aptDir, run: fakeHost(state) });
    await rm(join(root, first.version, IMAGE_FILES.initrd));
    const second = await buildImage({ outputRoot: root, aptDir, run: fakeHost(state) });
    assert.equal(second.built, true);
    assert.equal((await verifyImage(second.dir)).ok, true);
  });
});

test('verifyImage reports a changed byte and a wrong size by file name', async () => {
  await withImageRoot(async (root, aptDir) => {
    const result = await buildImage({
      outputRoot: root,
      aptDir,
      run: fakeHost({ kernelVersion: '9.9.9-1', calls: [] }),
    });
    const handle = await open(join(result.dir, IMAGE_FILES.rootfs), 'r+');
    await handle.write(Buffer.from('X'), 0, 1, 0);
    await handle.close();
    await writeFile(join(result.dir, IMAGE_FILES.vmlinux), 'short');
    const verification = await verifyImage(result.dir);
    assert.equal(verification.ok, false);
    assert.deepEqual(verification.problems, [
      `${IMAGE_FILES.vmlinux} is 5 bytes, manifest says ${result.manifest.files.vmlinux.size}`,
      `${IMAGE_FILES.rootfs} does not match its sha256`,
    ]);
  });
});

test('readImageManifest names the missing image and rejects malformed manifests', async () => {
  await withImageRoot(async (root) => {
    await assert.rejects(readImageManifest(join(root, 'nothing')), (error: unknown) =>
      hasCode(error, 'IMAGE_NOT_FOUND'),
    );
    await mkdir(root, { recursive: true });
    await writeFile(join(root, IMAGE_FILES.manifest), JSON.stringify({ formatVersion: 1, version: 'x' }));
    await assert.rejects(readImageManifest(root), (error: unknown) => {
      assert.ok(hasCode(error, 'IMAGE_MANIFEST_INVALID'));
      assert.match(error.message, /kernelRelease must be a string/);
      return true;
    });
    const verification = await verifyImage(root);
    assert.equal(verification.ok, false);
  });
});
