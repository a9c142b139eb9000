// The build revision: read from the checkout (or dist/build-info.json in a package) and shown in
// the job trace header, "Running with tart VERSION (REVISION)", as gitlab-runner shows its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tartRevision, tartVersion } from '../../src/cli/version.js';
import { tart } from '../exec/exec-cli.js';

const execFileAsync = promisify(execFile);
const CHECKOUT = join(import.meta.dirname, '..', '..');

test('the revision is the checkout HEAD, 8 hex digits', async () => {
  const { stdout } = await execFileAsync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: CHECKOUT });
  assert.equal(tartRevision(), stdout.trim());
});

test('the trace header of a job names the revision', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-revision-'));
  try {
    const repo = join(dir, 'repo');
    await execFileAsync('git', ['init', '-q', repo]);
    await writeFile(join(repo, '.gitlab-ci.yml'), 'job:\n  script: [echo hi]\n');
    await execFileAsync('git', ['add', '.'], { cwd: repo });
    await execFileAsync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'c'], {
      cwd: repo,
    });
    const run = await tart(['exec', '--cwd', repo, '--executor', 'shell'], { home: dir, uid: 1000 });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        `^\\[job\\] Running with tart ${tartVersion().replaceAll('.', '\\.')} \\(${tartRevision()}\\)$`,
        'm',
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
