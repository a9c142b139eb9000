// The pid lock file: one owner at a time; a dead owner's lock (or an empty one it left) is taken
// over by exactly one of the processes racing for it; a live owner's lock is never touched.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitedPid } from '../support/exited-pid.js';
import { releasePidLock, takePidLock } from '../../src/process/pid-lock.js';

describe('pid lock files', () => {
  let dir: string;
  let deadPid: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-pid-lock-'));
    deadPid = exitedPid();
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('is taken once, names its live owner to the next taker, and is free again after release', async () => {
    const path = join(dir, 'basic.lock');
    assert.equal(await takePidLock(path), undefined);
    assert.equal(await readFile(path, 'utf8'), `${process.pid}\n`);
    assert.equal(await takePidLock(path), process.pid);
    await releasePidLock(path);
    assert.equal(await takePidLock(path), undefined);
  });

  it('takes over a dead owner\'s lock, and an empty one only once it is old', async () => {
    const dead = join(dir, 'dead.lock');
    await writeFile(dead, `${deadPid}\n`);
    assert.equal(await takePidLock(dead), undefined);
    assert.equal(await readFile(dead, 'utf8'), `${process.pid}\n`);

    const empty = join(dir, 'empty.lock');
    await writeFile(empty, '');
    assert.equal(await takePidLock(empty), 0, 'a lock being written counts as held');
    const old = new Date(Date.now() - 60_000);
    await utimes(empty, old, old);
    assert.equal(await takePidLock(empty), undefined, 'an empty lock a killed owner left is taken over');
  });

  it('hands a stale lock to exactly one of many concurrent takers and leaves no marker', async () => {
    for (let round = 0; round < 50; round++) {
      const path = join(dir, `race-${round}.lock`);
      await writeFile(path, `${deadPid}\n`);
      const results = await Promise.all(Array.from({ length: 6 }, () => takePidLock(path)));
      assert.equal(results.filter((owner) => owner === undefined).length, 1, `round ${round}: ${results.join(',')}`);
      // The others see the new owner, or a lock it has created but not yet written (0).
      for (const owner of results.filter((result) => result !== undefined)) assert.ok(owner === process.pid || owner === 0, `round ${round}: owner ${owner}`);
    }
    assert.equal((await readdir(dir)).filter((name) => name.endsWith('.takeover')).length, 0);
  });

  it('clears a takeover marker whose holder died mid-takeover', async () => {
    const path = join(dir, 'marker.lock');
    await writeFile(path, `${deadPid}\n`);
    await writeFile(`${path}.takeover`, `${deadPid}\n`);
    assert.equal(await takePidLock(path), undefined);
  });
});
