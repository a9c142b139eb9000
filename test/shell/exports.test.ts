import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';
import fc from 'fast-check';
import type { JobVariable } from '../../src/model/payload.js';
import { exportLines } from '../../src/shell/exports.js';
import { wrapStageBody } from '../../src/shell/wrap.js';
import { makeTempDir, runBash } from './helpers.js';

// Characters that break naive quoting, mixed with arbitrary unicode.
const nasty = fc.constantFrom(
  "'",
  '"',
  '\n',
  '\r',
  '\t',
  '$',
  '\\',
  '`',
  '$(touch CANARY)',
  '`touch CANARY`',
  '${HOME}',
  '!',
  '*',
  '\x1b',
  '\x7f',
  ' ',
  ';',
  '&',
  '|',
  '#',
  'é',
  '😀',
  '\\x41',
  "$'",
  '%s',
);
const value = fc
  .string({ unit: fc.oneof(nasty, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 })
  .map((text) => text.replace(/\0/g, ''));

describe('variable exports run by real bash', () => {
  const dir = makeTempDir();
  after(() => dir.remove());

  it('export any value byte-identically and never run anything inside it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (values, asFile) => {
          const tmpDir = join(dir.path, 'p.tmp');
          const variables: JobVariable[] = values.map((text, index) => ({
            key: `V${index}`,
            value: text,
            file: asFile && index === 0,
          }));
          const body = [
            ...exportLines({ variables, tmpDir, writeFiles: true }),
            `printenv -0 ${variables.map((variable) => variable.key).join(' ')}`,
            ...(asFile ? ['cat "$V0"; printf \'\\0\''] : []),
          ];
          const result = await runBash(wrapStageBody(body, { debugTrace: false }), { cwd: dir.path });
          assert.equal(result.exitCode, 0, result.stderr);
          const outputs = result.stdout.split('\0');
          variables.forEach((variable, index) => {
            const expected = variable.file
              ? join(tmpDir, variable.key)
              : Buffer.from(variable.value, 'utf8').toString('utf8');
            assert.equal(outputs[index], expected);
          });
          if (asFile)
            assert.equal(outputs[variables.length], Buffer.from(values[0] ?? '', 'utf8').toString('utf8'));
          assert.equal(existsSync(join(dir.path, 'CANARY')), false, 'a value ran a command');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes file variables 0600 and exports their path', async () => {
    const tmpDir = join(dir.path, 'q.tmp');
    const body = [
      ...exportLines({
        variables: [{ key: 'CERT', value: '-----BEGIN-----\nabc\n', file: true }],
        tmpDir,
        writeFiles: true,
      }),
      'echo "$CERT"',
    ];
    const result = await runBash(wrapStageBody(body, { debugTrace: false }), { cwd: dir.path });
    assert.equal(result.stdout, `${join(tmpDir, 'CERT')}\n`);
    assert.equal(readFileSync(join(tmpDir, 'CERT'), 'utf8'), '-----BEGIN-----\nabc\n');
    assert.equal(statSync(join(tmpDir, 'CERT')).mode & 0o777, 0o600);
  });

  it('lets the last duplicate win and re-exports GITLAB_ENV lines', async () => {
    const tmpDir = join(dir.path, 'r.tmp');
    const variables = [
      { key: 'A', value: 'first' },
      { key: 'A', value: 'second' },
    ];
    const first = [
      ...exportLines({ variables, tmpDir, writeFiles: true }),
      'echo "FROM_ENV=hello world" >> "$GITLAB_ENV"',
      'echo "$A"',
    ];
    const second = [...exportLines({ variables, tmpDir, writeFiles: true }), 'echo "$FROM_ENV"'];
    assert.equal(
      (await runBash(wrapStageBody(first, { debugTrace: false }), { cwd: dir.path })).stdout,
      'second\n',
    );
    assert.equal(
      (await runBash(wrapStageBody(second, { debugTrace: false }), { cwd: dir.path })).stdout,
      'hello world\n',
    );
  });
});

describe('the stage frame run by real bash', () => {
  const dir = makeTempDir();
  after(() => dir.remove());
  const run = (body: string[]) => runBash(wrapStageBody(body, { debugTrace: false }), { cwd: dir.path });

  it('exits with the status of the first failing command and runs nothing after it', async () => {
    const result = await run(['echo one', '(exit 3)', 'echo two', 'exit 4']);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, 'one\n');
  });

  it('fails a pipeline whose first command fails (pipefail)', async () => {
    assert.equal((await run(['false | true', 'echo unreachable'])).exitCode, 1);
  });

  it('does not fail on commands in if, && and || contexts', async () => {
    const result = await run(['if false; then echo no; fi', 'false && echo no', 'false || echo yes']);
    assert.deepEqual([result.exitCode, result.stdout], [0, 'yes\n']);
  });

  it('gives user commands an empty stdin so they cannot read the rest of the script', async () => {
    const result = await run(['cat', 'read -r line || echo "eof"', 'echo after']);
    assert.deepEqual([result.exitCode, result.stdout], [0, 'eof\nafter\n']);
  });

  it('exits 1 on SIGTERM through the TERM trap', async () => {
    const started = Date.now();
    let pid = 0;
    const child = runBash(wrapStageBody(['echo started', 'sleep 5 & wait'], { debugTrace: false }), {
      cwd: dir.path,
      onSpawn: (spawned) => (pid = spawned),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(-pid, 'SIGTERM'); // the process group of the bash this test started
    const result = await child;
    assert.equal(result.exitCode, 1);
    assert.ok(Date.now() - started < 4000);
  });

  it('traces commands to stderr with CI_DEBUG_TRACE', async () => {
    const result = await runBash(wrapStageBody(['echo traced'], { debugTrace: true }), { cwd: dir.path });
    assert.equal(result.stdout, 'traced\n');
    assert.match(result.stderr, /\+ echo traced/);
  });
});
