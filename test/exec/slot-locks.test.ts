// Slot locks shared by every `tart exec` on the host: one holder per project and slot, a dead
// holder's lock taken over, and never two holders when several processes take over one stale lock.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitedPid } from '../support/exited-pid.js';
import { createSlotLocks } from '../../src/exec/slot-locks.js';

describe('tart exec slot locks', () => {
  let dir: string;
  let deadPid: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-slot-locks-'));
    deadPid = exitedPid();
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('gives one project the lowest free slot, another project its own slot 0, and frees on release', async () => {
    const locks = createSlotLocks(join(dir, 'basic'), 'group/app');
    const first = await locks.acquire(new Set());
    const other = await createSlotLocks(join(dir, 'basic'), 'group/lib').acquire(new Set());
    assert.equal(first.slot, 0);
    assert.equal(other.slot, 0, 'locks are per project');
    // Another process's view: no memory of this one's busy slots, only the lock files.
    const second = await createSlotLocks(join(dir, 'basic'), 'group/app').acquire(new Set());
    assert.equal(second.slot, 1);
    await first.release();
    assert.equal((await locks.acquire(new Set([1]))).slot, 0, 'a released slot is free again');
  });

  it("takes over a lock whose owner has exited, but never a live owner's, nor one still being written", async () => {
    const lockDir = join(dir, 'stale');
    const locks = createSlotLocks(lockDir, 'app');
    await locks.acquire(new Set());
    await writeFile(join(lockDir, 'app.slot-0.lock'), `${deadPid}\n`);
    await writeFile(join(lockDir, 'app.slot-1.lock'), `${process.pid}\n`);
    await writeFile(join(lockDir, 'app.slot-2.lock'), '');
    assert.equal((await locks.acquire(new Set())).slot, 0, "the dead owner's slot");
    assert.equal((await locks.acquire(new Set([0]))).slot, 3, 'slots 1 (live) and 2 (being written) stay held');
  });

  it('never hands one stale slot to two takers at once', async () => {
    for (let round = 0; round < 30; round++) {
      const lockDir = join(dir, `race-${round}`);
      await createSlotLocks(lockDir, 'app').acquire(new Set());
      await writeFile(join(lockDir, 'app.slot-0.lock'), `${deadPid}\n`);
      // Each taker stands for a separate process: its own lock set, no shared memory.
      const slots = await Promise.all(
        Array.from({ length: 4 }, () => createSlotLocks(lockDir, 'app').acquire(new Set())),
      );
      assert.deepEqual(
        slots.map((lease) => lease.slot).sort(),
        [0, 1, 2, 3],
        `round ${round}: every taker has its own slot`,
      );
      assert.deepEqual((await readdir(lockDir)).sort(), [0, 1, 2, 3].map((slot) => `app.slot-${slot}.lock`));
    }
  });
});
