// Runs last (file name sorts last): once every other real-VM test process has ended, no qemu
// process, runtime dir, overlay/scratch disk or socket that the tests created may remain.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import {
  TEST_VM_ROOT,
  listFilesBelow,
  processCommandLines,
  processIsAlive,
  qemuProcessesMentioning,
} from '../executor/vm/support/vm-test-env.js';
import { waitFor } from '../support/wait-for.js';

// Each real-VM test process owns `<TEST_VM_ROOT>/<label>-<pid>` while it runs.
async function liveTestRoots(): Promise<string[]> {
  const names = await readdir(TEST_VM_ROOT).catch(() => [] as string[]);
  return names.filter((name) => {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    return Number.isInteger(pid) && pid !== process.pid && processIsAlive(pid);
  });
}

// Test files still running (node --test runs each file in its own process), in case one has not
// created its runtime root yet.
function liveVmTestFiles(): string[] {
  const found: string[] = [];
  for (const { pid, raw } of processCommandLines()) {
    // Skip this process and the runners (`node --test …`, scripts/run-tests.mjs) that merely list files.
    if (pid === process.pid || raw.includes('\0--test\0') || raw.includes('run-tests.mjs')) continue;
    const file = /test\/(?:executor\/vm|vm-e2e)\/[\w.-]+\.test\.ts/.exec(raw)?.[0];
    if (file && !file.includes('zz-no-leftovers')) found.push(file);
  }
  return found;
}

describe('after the real-VM tests', () => {
  it('nothing they created is left: no qemu process, disk, socket or runtime dir', async () => {
    // Test files run two at a time: wait for any still running to finish (and clean up).
    await waitFor(
      async () => liveVmTestFiles().length === 0 && (await liveTestRoots()).length === 0,
      15 * 60_000,
      'the other real-VM test files to finish',
    );
    assert.deepEqual(await qemuProcessesMentioning(TEST_VM_ROOT), [], 'qemu processes left');
    const files = await listFilesBelow(TEST_VM_ROOT);
    assert.deepEqual(
      files.filter((name) => /\.(img|tar|sock|pid|log)$|state\.json$/.test(name)),
      [],
      'disks, sockets or state left',
    );
    assert.deepEqual(files, [], `entries left under ${TEST_VM_ROOT}`);
  });
});
