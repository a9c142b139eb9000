import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCode, UserError } from '../../src/errors.js';
import { runChecked, spawnCommand } from '../../src/image/spawn.js';

test('a command runs without a shell and returns binary stdout, stderr and the exit code', async () => {
  const result = await spawnCommand({
    command: 'sh',
    args: ['-c', 'printf "\\001\\002"; echo oops >&2; exit 3'],
  });
  assert.deepEqual(result.stdout, Buffer.from([1, 2]));
  assert.equal(result.stderr, 'oops\n');
  assert.equal(result.exitCode, 3);
});

test('stdin input reaches the command', async () => {
  const result = await spawnCommand({ command: 'cat', args: [], input: 'hello' });
  assert.equal(result.stdout.toString(), 'hello');
});

test('runChecked turns a non-zero exit into IMAGE_COMMAND_FAILED with the stderr tail', async () => {
  await assert.rejects(
    runChecked(spawnCommand, { command: 'sh', args: ['-c', 'echo broken >&2; exit 2'] }),
    (error: unknown) => {
      assert.ok(hasCode(error, 'IMAGE_COMMAND_FAILED'));
      assert.match(error.message, /exited with 2: broken/);
      assert.equal(error.details.exitCode, 2);
      return true;
    },
  );
});

test('a missing tool is a user error naming the tool', async () => {
  await assert.rejects(spawnCommand({ command: 'tart-no-such-tool', args: [] }), (error: unknown) => {
    assert.ok(error instanceof UserError && hasCode(error, 'IMAGE_TOOL_MISSING'));
    assert.match(error.message, /tart-no-such-tool is not installed/);
    return true;
  });
});
