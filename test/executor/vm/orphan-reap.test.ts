// A runner SIGKILLed mid-job leaves its QEMU running; the next runner's reapOrphans kills it
// and removes its disks and sockets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reapOrphans } from '../../../src/executor/vm/index.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  processIsAlive,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from './support/vm-test-env.js';
import { waitFor } from '../../support/wait-for.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'prepare-and-hang.ts');

describe('reaping the VM of a runner that was SIGKILLed', () => {
  let runtimeRoot: string;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('orphan-reap');
  });

  after(async () => {
    // Should the test fail half-way, still leave nothing running.
    for (const vm of await qemuProcessesMentioning(runtimeRoot)) process.kill(vm.pid, 'SIGKILL');
    await removeTestRuntimeRoot(runtimeRoot);
  });

  it('kills the orphaned QEMU and removes its runtime dir', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, runtimeRoot, IMAGE_DIR], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      () => output.includes('\n') || child.exitCode !== null,
      240_000,
      'the child runner to boot its VM',
    );
    const { runtimeDir, vmmPid } = JSON.parse(output) as { runtimeDir: string; vmmPid: number };
    child.kill('SIGKILL');
    await exited;

    assert.ok(processIsAlive(vmmPid), 'QEMU outlives its SIGKILLed runner');
    await access(join(runtimeDir, 'scratch.img'));
    const reaped = await reapOrphans({ runtimeRoot });
    assert.deepEqual(reaped.reaped, [runtimeDir]);
    assert.deepEqual(reaped.killedPids, [vmmPid]);
    await waitFor(() => !processIsAlive(vmmPid), 5000, 'QEMU to die');
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), []);
    await assert.rejects(access(runtimeDir), { code: 'ENOENT' });
  });
});
