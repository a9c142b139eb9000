// runCollect with input a child never reads: the child's exit code is the answer, not an EPIPE
// that escapes as an uncaught exception.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCollect } from '../../src/process/run.js';

test('input to a child that exits without reading it resolves with its exit code', async () => {
  // Far more than a pipe buffer holds, so the write is still pending when `false` exits.
  const result = await runCollect({ command: 'false', args: [], input: 'x'.repeat(4 * 1024 * 1024) });
  assert.equal(result.exitCode, 1);
  // One tick for a late 'error' event on stdin to surface, as it would through the test runner.
  await new Promise((resolve) => setImmediate(resolve));
});
