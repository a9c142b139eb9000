// A whole VM boot under a REAL Firecracker binary: runs only where one exists (FIRECRACKER_BIN),
// /dev/kvm is usable, a guest image is built and we may create a TAP device. Everywhere else it is
// skipped with the exact reason — this machine has no Firecracker (not in npm or Debian) and no KVM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectGuest } from '../../../src/guest/ssh/connect.js';
import { generateVmKeys } from '../../../src/guest/ssh/keys.js';
import {
  currentImageDir,
  defaultImageRoot,
  IMAGE_FILES,
  readImageManifest,
} from '../../../src/image/layout.js';
import { createScratchDisk, createSeedDisk } from '../../../src/vmm/disks.js';
import { GUEST_READY_MARKER } from '../../../src/vmm/guest-contract.js';
import { FirecrackerVmm } from '../../../src/vmm/firecracker/firecracker-vmm.js';

/** Why the real boot cannot run here, or undefined when it can. */
async function whyNotRunnable(): Promise<string | undefined> {
  const binary = process.env.FIRECRACKER_BIN;
  if (!binary)
    return 'FIRECRACKER_BIN is not set (no Firecracker binary is installable on this machine: it is in neither npm nor Debian)';
  if (spawnSync(binary, ['--version']).status !== 0)
    return `FIRECRACKER_BIN=${binary} does not run "--version"`;
  const kvm = await open('/dev/kvm', constants.O_RDWR).catch((error: Error) => error);
  if (kvm instanceof Error) return `/dev/kvm is not usable (${kvm.message})`;
  await kvm.close();
  const image = currentImageDir(defaultImageRoot());
  if (
    await access(join(image, IMAGE_FILES.vmlinux)).then(
      () => false,
      () => true,
    )
  )
    return `no guest image with a vmlinux at ${image} (run "tart image build")`;
  if (process.getuid?.() !== 0) return 'creating a TAP device needs root';
  return undefined;
}

test(
  'real Firecracker: the guest boots, sshd answers over hybrid vsock with the pinned host key, stop cleans up',
  { timeout: 180_000 },
  async (t) => {
    const reason = await whyNotRunnable();
    if (reason !== undefined) {
      t.skip(reason);
      return;
    }
    const imageDir = currentImageDir(defaultImageRoot());
    const manifest = await readImageManifest(imageDir);
    const dir = await mkdtemp(join(tmpdir(), 'tfc-real-'));
    const runtimeDir = join(dir, 'run');
    const tapName = `tfc${process.pid % 100_000}`;
    await mkdir(runtimeDir, { mode: 0o700 });
    try {
      assert.equal(
        spawnSync('ip', ['tuntap', 'add', 'dev', tapName, 'mode', 'tap']).status,
        0,
        'ip tuntap add',
      );
      spawnSync('ip', ['link', 'set', tapName, 'up']);
      const keys = generateVmKeys('real-fc');
      await createScratchDisk(join(runtimeDir, 'scratch.img'), 1024);
      await createSeedDisk(join(runtimeDir, 'seed.tar'), {
        authorizedKeys: keys.client.publicKey,
        hostPrivateKey: keys.host.privateKey,
        hostPublicKey: keys.host.publicKey,
        network: { address: '172.30.0.2/30', gateway: '172.30.0.1', dns: ['172.30.0.1'] },
        hostname: 'real-fc',
      });
      const vm = await new FirecrackerVmm({ binary: process.env.FIRECRACKER_BIN }).start({
        id: 'real-fc',
        vcpus: 1,
        memoryMb: 512,
        kernelPath: join(imageDir, IMAGE_FILES.vmlinux),
        initrdPath: join(imageDir, IMAGE_FILES.initrd),
        kernelCmdline: manifest.kernelCmdlineFirecracker,
        disks: {
          rootfs: join(imageDir, IMAGE_FILES.rootfs),
          scratch: join(runtimeDir, 'scratch.img'),
          seed: join(runtimeDir, 'seed.tar'),
        },
        network: { mode: 'tap', tapName, mac: '06:00:ac:1e:00:02' },
        consoleLogPath: join(dir, 'console.log'),
        runtimeDir,
      });
      await vm.waitForConsole?.(GUEST_READY_MARKER);
      const session = await connectGuest({
        endpoint: vm.sshEndpoint,
        clientPrivateKey: keys.client.privateKey,
        hostPublicKey: keys.host.publicKey,
        timeoutMs: 60_000,
      });
      session.close();
      await vm.stop({ graceMs: 10_000 });
      await vm.exited;
      assert.deepEqual((await readdir(runtimeDir)).sort(), ['scratch.img', 'seed.tar']);
    } finally {
      spawnSync('ip', ['link', 'del', tapName]);
      await rm(dir, { recursive: true, force: true });
    }
  },
);
