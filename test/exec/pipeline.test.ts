// Scheduling without executors: a table of canned outcomes stands in for the job engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelinePlan, PlannedJob } from '../../src/ci-yaml/types.js';
import type { JobOutcome } from '../../src/job/types.js';
import { runPipeline, selectJobs, type JobAttempt } from '../../src/exec/pipeline.js';

function job(name: string, stage: string, extra: Partial<PlannedJob> = {}): PlannedJob {
  return {
    name,
    definedAs: name,
    stage,
    when: 'on_success',
    allowFailure: { allowed: false, exitCodes: [] },
    variables: [],
    beforeScript: [],
    script: ['true'],
    afterScript: [],
    services: [],
    cache: [],
    retry: { max: 0, when: ['always'] },
    hooks: {},
    tags: [],
    ...extra,
  };
}

const STAGES = ['.pre', 'build', 'test', 'deploy', '.post'];
const SUCCESS: JobOutcome = { state: 'success', message: 'ok' };
const failure = (exitCode = 1): JobOutcome => ({
  state: 'failed',
  failureReason: 'script_failure',
  exitCode,
  message: 'failed',
});

// Runs the plan with outcomes by job name (a list = one per attempt); records the order and overlap.
async function run(
  jobs: PlannedJob[],
  outcomes: Record<string, JobOutcome | JobOutcome[]> = {},
  options: {
    only?: string[];
    withNeeds?: boolean;
    concurrency?: number;
    delays?: Record<string, number>;
  } = {},
) {
  const plan: PipelinePlan = { stages: STAGES, jobs, files: [] };
  const started: string[] = [];
  const attempts: JobAttempt[] = [];
  let active = 0;
  let maxActive = 0;
  const result = await runPipeline({
    plan,
    only: options.only ?? [],
    withNeeds: options.withNeeds ?? false,
    concurrency: options.concurrency ?? 4,
    runJob: async (attempt) => {
      started.push(attempt.job.name);
      attempts.push(attempt);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, options.delays?.[attempt.job.name] ?? 5));
      active--;
      const outcome = outcomes[attempt.job.name] ?? SUCCESS;
      return Array.isArray(outcome) ? (outcome[attempt.attempt - 1] ?? SUCCESS) : outcome;
    },
  });
  const status = Object.fromEntries(result.jobs.map((summary) => [summary.name, summary.status]));
  return { result, started, attempts, maxActive, status };
}

describe('running a pipeline', () => {
  it('runs stages in order and passes when every job succeeds', async () => {
    const { result, started } = await run([
      job('compile', 'build'),
      job('unit', 'test'),
      job('ship', 'deploy'),
    ]);
    assert.deepEqual(started, ['compile', 'unit', 'ship']);
    assert.equal(result.passed, true);
  });

  it('starts a job with needs as soon as its needs finish, before the rest of the earlier stage', async () => {
    const jobs = [
      job('slow', 'build'),
      job('fast', 'build'),
      job('early', 'test', { needs: [{ job: 'fast', artifacts: true, optional: false }] }),
      job('late', 'test'),
    ];
    const { started } = await run(jobs, {}, { delays: { slow: 80, fast: 5 } });
    assert.ok(started.indexOf('early') < started.indexOf('late'));
    assert.ok(started.indexOf('early') === 2, `early should start while slow runs: ${started.join(',')}`);
  });

  it('never runs more jobs at once than the concurrency', async () => {
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((name) => job(name, 'build'));
    assert.equal((await run(jobs, {}, { concurrency: 2 })).maxActive, 2);
    assert.equal((await run(jobs, {}, { concurrency: 5 })).maxActive, 5);
  });

  it('skips later jobs after a failure, runs on_failure and always jobs, and fails the pipeline', async () => {
    const jobs = [
      job('compile', 'build'),
      job('unit', 'test'),
      job('notify', 'deploy', { when: 'on_failure' }),
      job('cleanup', '.post', { when: 'always' }),
    ];
    const { result, status } = await run(jobs, { compile: failure() });
    assert.deepEqual(status, { compile: 'failed', unit: 'skipped', notify: 'success', cleanup: 'success' });
    assert.equal(result.passed, false);
  });

  it('does not run on_failure jobs when everything passed', async () => {
    const { status } = await run([job('compile', 'build'), job('notify', 'test', { when: 'on_failure' })]);
    assert.equal(status.notify, 'skipped');
  });

  it('treats allowed failures (incl. matching exit codes) as warnings that do not stop the pipeline', async () => {
    const jobs = [
      job('lint', 'build', { allowFailure: { allowed: true, exitCodes: [] } }),
      job('flaky', 'build', { allowFailure: { allowed: false, exitCodes: [3] } }),
      job('unit', 'test'),
    ];
    const { result, status } = await run(jobs, { lint: failure(1), flaky: failure(3) });
    assert.deepEqual(status, { lint: 'allowed-failure', flaky: 'allowed-failure', unit: 'success' });
    assert.equal(result.passed, true);
  });

  it('fails when the exit code is not one of allow_failure:exit_codes', async () => {
    const { result, status } = await run(
      [job('flaky', 'build', { allowFailure: { allowed: false, exitCodes: [3] } })],
      { flaky: failure(4) },
    );
    assert.equal(status.flaky, 'failed');
    assert.equal(result.passed, false);
  });

  it('leaves manual jobs alone unless they are named', async () => {
    const jobs = [job('compile', 'build'), job('deploy', 'deploy', { when: 'manual' })];
    assert.equal((await run(jobs)).status.deploy, 'manual');
    assert.equal((await run(jobs, {}, { only: ['deploy'] })).status.deploy, 'success');
  });

  it('retries a script failure up to retry:max with a new job id each time', async () => {
    const { result, attempts } = await run(
      [job('flaky', 'build', { retry: { max: 2, when: ['script_failure'] } })],
      { flaky: [failure(), failure(), SUCCESS] },
    );
    assert.deepEqual(
      attempts.map((attempt) => [attempt.attempt, attempt.jobId]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
    assert.equal(result.jobs[0]?.status, 'success');
    assert.equal(result.jobs[0]?.attempts, 3);
  });

  it('does not retry failures retry:when does not name', async () => {
    const { attempts } = await run(
      [job('flaky', 'build', { retry: { max: 2, when: ['runner_system_failure'] } })],
      { flaky: failure() },
    );
    assert.equal(attempts.length, 1);
  });

  it('passes the artifacts of earlier stages, of needs, or of dependencies', async () => {
    const jobs = [
      job('a', 'build'),
      job('b', 'build'),
      job('all', 'test'),
      job('needs-a', 'test', {
        needs: [
          { job: 'a', artifacts: true, optional: false },
          { job: 'b', artifacts: false, optional: false },
        ],
      }),
      job('deps-b', 'test', { dependencies: ['b'] }),
    ];
    const { attempts } = await run(jobs);
    const deps = (name: string) =>
      attempts
        .find((attempt) => attempt.job.name === name)
        ?.dependencies.map((dependency) => dependency.name);
    assert.deepEqual(deps('all'), ['a', 'b']);
    assert.deepEqual(deps('needs-a'), ['a']);
    assert.deepEqual(deps('deps-b'), ['b']);
  });

  it('runs only the named jobs, and with --needs what they need transitively', () => {
    const plan: PipelinePlan = {
      stages: STAGES,
      files: [],
      jobs: [
        job('a', 'build'),
        job('b', 'build'),
        job('c', 'test', { needs: [{ job: 'a', artifacts: true, optional: false }] }),
        job('d', 'deploy', { needs: [{ job: 'c', artifacts: true, optional: false }] }),
        job('e', 'deploy'),
      ],
    };
    assert.deepEqual(
      selectJobs(plan, ['d'], false).map((selected) => selected.name),
      ['d'],
    );
    assert.deepEqual(
      selectJobs(plan, ['d'], true).map((selected) => selected.name),
      ['a', 'c', 'd'],
    );
    assert.deepEqual(
      selectJobs(plan, ['e'], true).map((selected) => selected.name),
      ['a', 'b', 'c', 'e'],
    );
    assert.equal(selectJobs(plan, [], false).length, 5);
  });
});
