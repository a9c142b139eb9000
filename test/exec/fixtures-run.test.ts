// The run half of test/fixtures/ci/<feature>/: each folder whose expected.json has a `run` entry is
// committed into a throw-away repository and run with `tart exec --executor shell`, then compared
// with what that entry names: the exit code, each job's status, lines the jobs printed, notes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecSandbox, type ExecRun } from './exec-harness.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ci');

interface ExpectedRun {
  /** Jobs named on the command line, and --needs. */
  jobs?: string[];
  withNeeds?: boolean;
  variables?: Record<string, string>;
  exitCode: 0 | 1;
  /** Job name → status, for every job in the summary (in order). */
  statuses?: Record<string, string>;
  /** Job name → lines it must have printed. */
  output?: Record<string, string[]>;
  /** Job name → lines it must not have printed. */
  absent?: Record<string, string[]>;
  /** Substrings of tart exec's own notes and warnings. */
  notes?: string[];
}

const linesOf = (run: ExecRun, job: string) =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith(`[${job}] `))
    .map((line) => line.slice(job.length + 3));

const features = readdirSync(FIXTURES)
  .sort()
  .map((feature) => ({
    feature,
    run: (JSON.parse(readFileSync(join(FIXTURES, feature, 'expected.json'), 'utf8')) as { run?: ExpectedRun })
      .run,
  }))
  .filter((entry): entry is { feature: string; run: ExpectedRun } => entry.run !== undefined);

describe('running .gitlab-ci.yml fixtures with the shell executor', { timeout: 300_000 }, () => {
  for (const { feature, run: want } of features) {
    describe(feature, () => {
      const sandbox = new ExecSandbox(join(FIXTURES, feature));
      let run: ExecRun;
      before(async () => {
        run = await sandbox.exec({
          jobs: want.jobs ?? [],
          withNeeds: want.withNeeds ?? false,
          variables: Object.entries(want.variables ?? {}).map(([key, value]) => ({ key, value })),
        });
      });
      after(() => sandbox.remove());

      it(`exits ${want.exitCode}${want.statuses ? ' with the expected job statuses' : ''}`, () => {
        assert.equal(run.exitCode, want.exitCode, run.stdout + run.stderr);
        if (want.statuses)
          assert.deepEqual(
            Object.fromEntries(run.result.jobs.map((job) => [job.name, job.status])),
            want.statuses,
            run.stdout,
          );
      });

      if (want.output || want.absent || want.notes)
        it('prints what the jobs and tart exec should print', () => {
          for (const [job, lines] of Object.entries(want.output ?? {}))
            for (const line of lines)
              assert.ok(linesOf(run, job).includes(line), `${job}: "${line}"\n${run.stdout}`);
          for (const [job, lines] of Object.entries(want.absent ?? {}))
            for (const line of lines) assert.ok(!linesOf(run, job).includes(line), `${job}: not "${line}"`);
          for (const note of want.notes ?? [])
            assert.ok((run.stdout + run.stderr).includes(note), `"${note}" in\n${run.stdout}${run.stderr}`);
        });
    });
  }
});
