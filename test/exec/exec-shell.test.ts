// End to end with the real job engine and the shell executor: the sample project's three-stage
// pipeline (artifacts and a cache passed between jobs), a failing pipeline, and --dirty.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecSandbox, type ExecRun } from './exec-harness.js';
import { git } from './git-helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const statuses = (run: ExecRun) => Object.fromEntries(run.result.jobs.map((job) => [job.name, job.status]));
const linesOf = (run: ExecRun, job: string) =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith(`[${job}] `))
    .map((line) => line.slice(job.length + 3));

describe('tart exec --executor shell', { timeout: 240_000 }, () => {
  describe('the sample project (build → test → package)', () => {
    const sandbox = new ExecSandbox(join(REPO, 'examples', 'sample-project'));
    let run: ExecRun;
    before(async () => {
      run = await sandbox.exec();
    });
    after(() => sandbox.remove());

    it('passes with exit code 0 and every job successful, in stage order', () => {
      assert.equal(run.exitCode, 0, run.stdout);
      assert.deepEqual(
        run.result.jobs.map((job) => [job.name, job.stage, job.status]),
        [
          ['build', 'build', 'success'],
          ['test', 'test', 'success'],
          ['package', 'package', 'success'],
        ],
      );
    });

    it('hands build artifacts to test and package', () => {
      assert.ok(linesOf(run, 'test').includes('Hello, World!'), run.stdout);
      assert.ok(linesOf(run, 'test').includes('greeter test passed'));
      assert.ok(linesOf(run, 'package').includes('dist/greeter.sh'));
      assert.ok(linesOf(run, 'test').some((line) => line.startsWith('Downloading artifacts for build (')));
    });

    it('passes the cache from build to the later jobs', () => {
      assert.ok(linesOf(run, 'build').includes('Created cache'));
      assert.ok(
        linesOf(run, 'test').includes('toolchain fetched by build'),
        'test restored the cache build created',
      );
      assert.ok(
        linesOf(run, 'package').some(
          (line) => line.startsWith('Not uploading cache') && line.includes('due to policy'),
        ),
      );
    });

    it('never shows the job token (it is in the clone URL) to the user', () => {
      assert.doesNotMatch(run.stdout + run.stderr, /glcbt-tartexec_[0-9a-f]{6}/);
    });

    it('prints job-prefixed plain lines and a summary table', () => {
      assert.ok(!run.stdout.includes('\x1b['), 'no colours when not a TTY');
      assert.ok(!run.stdout.includes('section_start'), 'no section markers');
      const table = run.stdout.slice(run.stdout.lastIndexOf('JOB'));
      assert.match(table, /^JOB\s+STAGE\s+STATUS\s+DURATION\n/);
      assert.match(table, /\nbuild\s+build\s+success\s+\d+\.\ds\n/);
      assert.match(table, /\npackage\s+package\s+success\s+\d+\.\ds\n/);
    });
  });

  describe('a pipeline with a failing job', () => {
    const sandbox = new ExecSandbox(join(import.meta.dirname, 'projects', 'failing'));
    let run: ExecRun;
    before(async () => {
      run = await sandbox.exec();
    });
    after(() => sandbox.remove());

    it('exits 1, skips what follows, and runs the on_failure job', () => {
      assert.equal(run.exitCode, 1, run.stdout);
      assert.deepEqual(statuses(run), {
        compile: 'success',
        lint: 'allowed-failure',
        unit: 'failed',
        deploy: 'skipped',
        'report-failure': 'success',
      });
    });

    it('shows the failing script and runs its after_script with the failed status', () => {
      assert.ok(linesOf(run, 'unit').includes('running unit tests'));
      assert.ok(linesOf(run, 'unit').includes('after unit: failed'), run.stdout);
      assert.ok(!run.stdout.includes('should never run'));
    });
  });

  describe('--dirty', () => {
    const sandbox = new ExecSandbox(join(import.meta.dirname, 'projects', 'dirty'));
    after(() => sandbox.remove());

    it('runs the committed state by default and warns about uncommitted changes', async () => {
      writeFileSync(join(sandbox.project, 'message.txt'), 'uncommitted message\n');
      const run = await sandbox.exec();
      assert.equal(run.exitCode, 0, run.stdout);
      assert.ok(linesOf(run, 'show').includes('committed message'));
      assert.match(run.stderr, /Uncommitted changes are not part of this pipeline/);
    });

    it('includes uncommitted changes with dirty, leaving the branch and index untouched', async () => {
      const head = git(sandbox.project, 'rev-parse', 'HEAD');
      const run = await sandbox.exec({ dirty: true });
      assert.equal(run.exitCode, 0, run.stdout);
      assert.ok(linesOf(run, 'show').includes('uncommitted message'));
      const sha = linesOf(run, 'show')
        .find((line) => line.startsWith('sha='))
        ?.slice(4);
      assert.notEqual(sha, head, 'the job ran a snapshot commit');
      assert.equal(git(sandbox.project, 'rev-parse', 'HEAD'), head);
      assert.equal(git(sandbox.project, 'status', '--porcelain'), 'M message.txt');
    });
  });
});
