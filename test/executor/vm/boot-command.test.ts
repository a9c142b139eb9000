// The guest contract's boot command (the job image's root is built with it): the real guest's init
// runs the seed's argv during boot, before the ready marker, and the host reads its output and
// exit status back from the console. Boots a real VM under TCG: run under `flock /tmp/tart-vm.lock`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FreshVmProvider } from '../../../src/executor/vm/index.js';
import { execCollecting } from '../../../src/executor/vm/guest-exec.js';
import { QemuVmm } from '../../../src/vmm/qemu/qemu-vmm.js';
import { IMAGE_DIR, createTestRuntimeRoot, qemuProcessesMentioning, removeTestRuntimeRoot, requireImage } from './support/vm-test-env.js';

describe('a boot command (real guest under TCG)', () => {
  let runtimeRoot: string;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('boot-command');
  });

  after(async () => {
    for (const vm of await qemuProcessesMentioning(runtimeRoot)) process.kill(vm.pid, 'SIGKILL');
    await removeTestRuntimeRoot(runtimeRoot);
  });

  it('runs during boot, in the VM sshd serves, and reports its output and a failing status', async () => {
    const provider = new FreshVmProvider({ vmm: new QemuVmm({ accel: 'auto' }), imageDir: IMAGE_DIR, vcpus: 1, memoryMb: 512, diskSizeMb: 512, bootTimeoutSeconds: 240, runtimeRoot });
    const script = 'echo "out: $1"; echo "err line" >&2; hostname > /run/boot-command-ran; exit 3';
    const vm = await provider.acquire({ name: 'bootcmd', log: () => undefined, bootCommand: ['sh', '-c', script, 'sh', 'two words'] }, new AbortController().signal);
    try {
      assert.deepEqual(vm.bootCommandResult, { exitCode: 3, output: 'out: two words\nerr line' });
      const ran = await execCollecting(vm.channel, { command: ['cat', '/run/boot-command-ran'] });
      assert.deepEqual(ran, { exitCode: 0, output: `runner-${vm.handle.vmId}\n` }, 'after the identity: the seed hostname');
    } finally {
      await provider.release(vm);
    }
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), []);
  });

  it("runs as one exec of the image's static busybox, whose applets the init's own steps use", async (t) => {
    const provider = new FreshVmProvider({ vmm: new QemuVmm({ accel: 'auto' }), imageDir: IMAGE_DIR, vcpus: 1, memoryMb: 512, diskSizeMb: 512, bootTimeoutSeconds: 240, runtimeRoot });
    const { helperBusybox } = await provider.guestTools();
    if (helperBusybox === undefined) return t.skip('the guest image predates its static busybox: rebuild it');
    // A standalone shell: mkdir and mount are busybox's applets, not the root's programs.
    const script = 'mkdir -p /run/bb-test && mount -t tmpfs tmpfs /run/bb-test && type mount && readlink /proc/self/exe';
    const vm = await provider.acquire({ name: 'bootcmd-bb', log: () => undefined, bootCommand: [helperBusybox, 'sh', '-c', script] }, new AbortController().signal);
    try {
      assert.deepEqual(vm.bootCommandResult, { exitCode: 0, output: `mount is mount\n${helperBusybox}` });
      const mounted = await execCollecting(vm.channel, { command: ['grep', '-c', ' /run/bb-test tmpfs ', '/proc/mounts'] });
      assert.deepEqual(mounted, { exitCode: 0, output: '1\n' });
    } finally {
      await provider.release(vm);
    }
  });
});
