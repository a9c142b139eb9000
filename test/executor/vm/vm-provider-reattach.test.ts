// The VM handle is enough to use a VM from another process: process 1 (a fixture) acquires a
// real QEMU VM and writes its handle; this process reads the handle, re-attaches over SSH, runs
// a command, and releases the VM. Nothing is left: no QEMU, no runtime dir, process 1 exits 0.
// Boots a real VM under TCG: run under `flock /tmp/tart-vm.lock`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FreshVmProvider, readHandle } from '../../../src/executor/vm/index.js';
import { QemuVmm } from '../../../src/vmm/qemu/qemu-vmm.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  listFilesBelow,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from './support/vm-test-env.js';
import { waitFor } from '../../support/wait-for.js';

const PROCESS_ONE = join(import.meta.dirname, 'fixtures', 'acquire-and-wait.ts');

describe('a VM acquired in one process, used and released from another (real guest under TCG)', () => {
  let runtimeRoot: string;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('vm-reattach');
  });

  after(async () => {
    for (const vm of await qemuProcessesMentioning(runtimeRoot)) process.kill(vm.pid, 'SIGKILL');
    await removeTestRuntimeRoot(runtimeRoot);
  });

  it('re-attaches from the handle, runs a command, releases, and leaves nothing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROCESS_ONE, runtimeRoot, IMAGE_DIR], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      () => output.includes('\n') || child.exitCode !== null,
      240_000,
      'process 1 to boot its VM',
    );
    const { runtimeDir } = JSON.parse(output) as { runtimeDir: string };

    const handle = await readHandle(runtimeDir);
    assert.equal(handle.runnerPid, child.pid, 'the handle names process 1 as the owner');
    assert.equal(handle.vmm, 'qemu');
    assert.ok(handle.sockets.qmp, 'the QMP socket is in the handle');
    assert.equal((await stat(handle.credentials.path)).mode & 0o077, 0, 'the client key is private');

    const provider = new FreshVmProvider({
      vmm: new QemuVmm({ accel: 'auto' }),
      imageDir: IMAGE_DIR,
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 512,
      bootTimeoutSeconds: 60,
      runtimeRoot,
    });
    const vm = await provider.attach(handle);
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const result = await vm.channel.exec({ command: ['sh', '-c', 'echo "attached to $(hostname)"'], stdout });
    assert.deepEqual(result, { exitCode: 0 });
    assert.equal(text, `attached to runner-${handle.vmId}\n`);

    await provider.release(vm);
    assert.equal(await exited, 0, 'process 1 saw its VM go and exited cleanly');
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), []);
    await assert.rejects(access(runtimeDir), { code: 'ENOENT' });
    assert.deepEqual(await listFilesBelow(runtimeRoot), []);
  });
});
