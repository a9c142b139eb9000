import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyIds } from '../../src/daemon/concurrency-ids.js';

test('concurrent jobs of one project get distinct project slots, reused once freed', () => {
  const ids = new ConcurrencyIds();
  const a = ids.acquire('42');
  const b = ids.acquire('42');
  const c = ids.acquire('7');
  assert.deepEqual([a.concurrentId, b.concurrentId, c.concurrentId], [0, 1, 2]);
  assert.deepEqual([a.concurrentProjectId, b.concurrentProjectId, c.concurrentProjectId], [0, 1, 0]);
  a.release();
  const d = ids.acquire('42');
  assert.equal(d.concurrentId, 0);
  assert.equal(d.concurrentProjectId, 0);
});
