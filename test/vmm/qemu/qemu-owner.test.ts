// Handing a VM's files to the unprivileged uid its QEMU runs as: its own disks and control dir
// become that user's, the runtime dirs search-only, the shared disks are opened for it, and a
// file it must read by path but cannot reach is named before QEMU starts.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '../../../src/errors.js';
import type { VmSpec } from '../../../src/vmm/types.js';
import { handOverToOwner, QEMU_OWNED_DIR } from '../../../src/vmm/qemu/qemu-owner.js';

const OWNER = { uid: 64_917, gid: 64_918 };

describe('handOverToOwner', { skip: process.getuid?.() !== 0 && 'chown needs root' }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-qemu-owner-'));
    await chmod(dir, 0o755);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function specIn(name: string, imageMode: number): Promise<VmSpec> {
    const image = join(dir, name, 'image');
    const runtimeDir = join(dir, name, 'vms', 'vm1');
    await mkdir(image, { recursive: true, mode: imageMode });
    await chmod(image, imageMode);
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    for (const file of ['vmlinuz', 'initrd.img', 'rootfs.ext4']) await writeFile(join(image, file), '', { mode: 0o644 });
    for (const file of ['scratch.img', 'seed.tar']) await writeFile(join(runtimeDir, file), '', { mode: 0o600 });
    await writeFile(join(runtimeDir, 'client-key'), 'secret', { mode: 0o600 });
    return {
      id: 'vm1',
      vcpus: 1,
      memoryMb: 128,
      kernelPath: join(image, 'vmlinuz'),
      initrdPath: join(image, 'initrd.img'),
      kernelCmdline: '',
      disks: {
        rootfs: join(image, 'rootfs.ext4'),
        scratch: join(runtimeDir, 'scratch.img'),
        seed: join(runtimeDir, 'seed.tar'),
      },
      network: { mode: 'user', sshForwardPort: 2222 },
      consoleLogPath: join(runtimeDir, 'console.log'),
      runtimeDir,
    };
  }

  it("gives the owner its VM's disks and a control dir, opens the shared disks, and leaves the client key root's", async () => {
    const spec = await specIn('ok', 0o755);
    const handover = await handOverToOwner(spec, OWNER);
    await handover.close();
    assert.equal(handover.controlDir, join(spec.runtimeDir, QEMU_OWNED_DIR));
    assert.deepEqual(handover.passedDisks, { rootfs: 3 }, "the rootfs is the child's fd 3");
    assert.equal(handover.descriptors.length, 1);
    const owned = await stat(handover.controlDir);
    assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o777], [OWNER.uid, OWNER.gid, 0o700]);
    for (const disk of [spec.disks.scratch, spec.disks.seed]) assert.equal((await stat(disk)).uid, OWNER.uid);
    assert.equal((await stat(spec.runtimeDir)).mode & 0o777, 0o711, 'search-only');
    assert.equal((await stat(join(spec.runtimeDir, '..'))).mode & 0o777, 0o711);
    const key = await stat(join(spec.runtimeDir, 'client-key'));
    assert.deepEqual([key.uid, key.mode & 0o777], [0, 0o600]);
  });

  it('opens a job image in a private store for the owner, and names a kernel dir it cannot enter', async () => {
    const store = join(dir, 'store');
    await mkdir(store, { mode: 0o700 });
    await writeFile(join(store, 'rootfs.ext4'), '', { mode: 0o600 });
    const withImage = await specIn('with-image', 0o755);
    const handover = await handOverToOwner(
      { ...withImage, disks: { ...withImage.disks, jobImage: join(store, 'rootfs.ext4') } },
      OWNER,
    );
    await handover.close();
    assert.deepEqual(handover.passedDisks, { rootfs: 3, jobImage: 4 });

    const spec = await specIn('closed', 0o700);
    await assert.rejects(
      handOverToOwner(spec, OWNER),
      (error: unknown) =>
        hasCode(error, 'VMM_FILE_UNREACHABLE') &&
        (error as Error).message.includes(`cannot enter ${join(dir, 'closed', 'image')}`),
    );
  });
});
