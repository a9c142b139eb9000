// A missing QEMU binary: the job's error says what `tart doctor` says, not Node's bare spawn error.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QemuVmm } from '../../../src/vmm/qemu/qemu-vmm.js';

test('starting a VM with an absent qemu binary names the package to install and tart doctor', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-qemu-spawn-'));
  try {
    const vmm = new QemuVmm({ binary: join(dir, 'qemu-system-x86_64'), accel: 'tcg' });
    await assert.rejects(
      vmm.start({
        id: 'job1-abcd',
        vcpus: 1,
        memoryMb: 256,
        kernelPath: join(dir, 'vmlinuz'),
        initrdPath: join(dir, 'initrd.img'),
        kernelCmdline: 'console=ttyS0',
        disks: {
          rootfs: join(dir, 'rootfs.ext4'),
          scratch: join(dir, 'scratch.img'),
          seed: join(dir, 'seed.tar'),
        },
        network: { mode: 'user', sshForwardPort: 40022 },
        consoleLogPath: join(dir, 'console.log'),
        runtimeDir: dir,
      }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'VMM_SPAWN_FAILED');
        assert.equal(
          error.message,
          `${join(dir, 'qemu-system-x86_64')} is absent (or does not run) (fix: apt-get install qemu-system-x86, or set QEMU_BIN; "tart doctor" checks this host)`,
        );
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
