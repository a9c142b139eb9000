// Files a Firecracker VM start needs, as small stand-ins in a temp dir: an "ELF" kernel (only the
// magic matters to the driver and the double), initrd, rootfs, sparse scratch, seed.
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmSpec } from '../../../src/vmm/types.js';

export interface VmFixture {
  dir: string;
  spec: VmSpec;
  cleanup(): Promise<void>;
}

export const TEST_CMDLINE = 'console=ttyS0 root=/dev/vda ro panic=-1 pci=off quiet reboot=k';

/** A temp dir with every file a spec points at, and a spec for it. */
export async function makeVmFixture(id = 'job-1'): Promise<VmFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tfc-'));
  const image = join(dir, 'img');
  const runtimeDir = join(dir, 'run');
  await mkdir(image);
  await mkdir(runtimeDir, { mode: 0o700 });
  await writeFile(
    join(image, 'vmlinux'),
    Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]),
  );
  await writeFile(join(image, 'vmlinuz'), Buffer.from('MZ not an ELF'));
  await writeFile(join(image, 'initrd.img'), 'initrd');
  await writeFile(join(image, 'rootfs.ext4'), 'rootfs');
  await writeFile(join(runtimeDir, 'scratch.img'), '');
  await truncate(join(runtimeDir, 'scratch.img'), 64 * 1024 * 1024);
  await writeFile(join(runtimeDir, 'seed.tar'), 'seed', { mode: 0o600 });
  const spec: VmSpec = {
    id,
    vcpus: 2,
    memoryMb: 512,
    kernelPath: join(image, 'vmlinux'),
    initrdPath: join(image, 'initrd.img'),
    kernelCmdline: TEST_CMDLINE,
    disks: {
      rootfs: join(image, 'rootfs.ext4'),
      scratch: join(runtimeDir, 'scratch.img'),
      seed: join(runtimeDir, 'seed.tar'),
    },
    network: { mode: 'tap', tapName: 'tart0', mac: '06:00:ac:10:00:02' },
    consoleLogPath: join(dir, 'console.log'),
    runtimeDir,
  };
  return { dir, spec, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
