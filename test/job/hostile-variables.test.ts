// Variables a hostile payload can send: file keys that are paths, and values no job can use.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VARIABLE_LIMITS } from '../../src/job/variable-checks.js';
import { createJobHarness, type JobHarness } from './support/job-harness.js';

// The longest value `BIG_PLAIN=value\0` Linux still passes to a command.
const PLAIN_MAX = VARIABLE_LIMITS.exportedBytes - 'BIG_PLAIN='.length - 1;

describe('hostile job variables', () => {
  let harness: JobHarness;

  before(async () => {
    harness = await createJobHarness();
  });
  after(() => harness.cleanup());

  for (const key of ['../../escaped-file-variable', 'nested/name', '..']) {
    it(`refuses the file variable ${JSON.stringify(key)} before anything is written`, async () => {
      const before = existsSync(harness.buildsDir)
        ? await readdir(harness.buildsDir, { recursive: true })
        : [];
      const result = await harness.run(
        harness.job({ variables: [{ key, value: 'owned', file: true }], script: ['echo script ran'] }),
      );
      assert.equal(result.outcome.state, 'failed');
      assert.equal(result.outcome.failureReason, 'script_failure');
      assert.match(result.trace, /Job failed: file variable .* has a key that is not a plain file name/);
      assert.doesNotMatch(result.trace, /^script ran$/m);
      const afterRun = existsSync(harness.buildsDir)
        ? await readdir(harness.buildsDir, { recursive: true })
        : [];
      assert.deepEqual(afterRun, before, 'nothing written in the builds dir');
      assert.equal(existsSync(join(harness.buildsDir, '..', 'escaped-file-variable')), false);
    });
  }

  it('refuses a 10 MB variable at once, naming it, instead of working on it for minutes', async () => {
    const result = await harness.run(
      harness.job({ variables: [{ key: 'HUGE', value: 'x'.repeat(10 * 1024 * 1024) }] }),
    );
    assert.equal(result.outcome.state, 'failed');
    assert.match(
      result.trace,
      /Job failed: variable "HUGE" takes 10485766 bytes as KEY=value; Linux starts no command with an environment variable over 131072/,
    );
    assert.ok(result.elapsedMs < 5_000, `took ${result.elapsedMs} ms`);
  });

  it('accepts a file variable at the file limit and a plain one at the plain limit', async () => {
    const result = await harness.run(
      harness.job({
        variables: [
          { key: 'BIG_FILE', value: 'f'.repeat(VARIABLE_LIMITS.fileValueBytes), file: true },
          { key: 'BIG_PLAIN', value: 'p'.repeat(PLAIN_MAX) },
        ],
        script: [
          'test "$(wc -c < "$BIG_FILE")" -eq 3145728',
          `test "\${#BIG_PLAIN}" -eq ${PLAIN_MAX}`,
          'env > /dev/null',
          'echo sizes ok',
        ],
      }),
    );
    assert.equal(result.outcome.state, 'success', result.trace.slice(-2000));
    assert.match(result.trace, /^sizes ok$/m);
  });

  it('refuses a plain variable one byte past what Linux passes to a command', async () => {
    const result = await harness.run(
      harness.job({ variables: [{ key: 'BIG_PLAIN', value: 'p'.repeat(PLAIN_MAX + 1) }] }),
    );
    assert.equal(result.outcome.state, 'failed');
    assert.match(result.trace, /Job failed: variable "BIG_PLAIN" takes 131073 bytes/);
  });

  it('refuses more variables than any GitLab sends', async () => {
    const variables = Array.from({ length: VARIABLE_LIMITS.count + 1 }, (_, index) => ({
      key: `V${index}`,
      value: '1',
    }));
    const result = await harness.run(harness.job({ variables }));
    assert.equal(result.outcome.state, 'failed');
    assert.match(result.trace, /Job failed: the job has \d+ variables; at most 20000 are accepted/);
  });
});
