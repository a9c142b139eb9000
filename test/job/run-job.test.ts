import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { groupMembers } from '../../src/process/process-group.js';
import { ShellExecutor } from '../../src/executor/shell/index.js';
import type { ExecOptions, ExecResult, Executor, JobEnvironment } from '../../src/executor/types.js';
import type { CancelReason } from '../../src/job/types.js';
import { createJobHarness, JOB_TOKEN, type JobHarness } from './support/job-harness.js';
import { traceStructure } from './support/trace-structure.js';

const execFileAsync = promisify(execFile);
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'sample-job.trace.txt');

// Counts close() calls, so tests can prove the environment is always released.
function countingExecutor(inner: Executor): Executor & { closes: number } {
  const wrapper = {
    name: inner.name,
    closes: 0,
    async prepare(options: Parameters<Executor['prepare']>[0]): Promise<JobEnvironment> {
      const env = await inner.prepare(options);
      return {
        executorName: env.executorName,
        buildsDir: env.buildsDir,
        disposable: env.disposable,
        exec: (exec) => env.exec(exec),
        close: async () => {
          wrapper.closes += 1;
          await env.close();
        },
      };
    },
  };
  return wrapper;
}

// Lets a test replace the result of the n-th exec (0-based) of a real environment.
function interceptingExecutor(
  inner: Executor,
  intercept: (call: number, options: ExecOptions) => Promise<ExecResult> | undefined,
): Executor {
  return {
    name: inner.name,
    async prepare(options) {
      const env = await inner.prepare(options);
      let calls = 0;
      return {
        executorName: env.executorName,
        buildsDir: env.buildsDir,
        disposable: env.disposable,
        exec: (exec) => intercept(calls++, exec) ?? env.exec(exec),
        close: () => env.close(),
      };
    },
  };
}

// Aborts `cancel` with `reason` once the trace contains `marker`; returns when that happened.
function cancelWhen(
  cancel: AbortController,
  marker: RegExp,
  reason: CancelReason,
): { onTrace: (trace: string) => void; at: () => number; pgid: () => number } {
  let at = 0;
  let pgid = 0;
  return {
    onTrace: (trace) => {
      const match = marker.exec(trace);
      if (match === null || cancel.signal.aborted) return;
      pgid = Number(match[1]);
      at = Date.now();
      cancel.abort(reason);
    },
    at: () => at,
    pgid: () => pgid,
  };
}

describe('runJob with the shell executor', () => {
  let harness: JobHarness;

  before(async () => {
    harness = await createJobHarness();
  });

  after(async () => {
    await harness.cleanup();
  });

  it('a trace of a sample job has gitlab-runner’s header, sections, $ lines and footer in order', async () => {
    const dependency = {
      id: 900,
      name: 'build',
      token: 'glcbt-dependency-token',
      artifacts_file: { filename: 'artifacts.zip', size: 0 },
    };
    await makeZip(harness.artifacts.pathFor(900, 'artifacts.zip'), { 'dep.txt': 'from build\n' });
    const job = harness.job({
      script: ['cat dep.txt', 'mkdir -p out && echo built > out/result.txt'],
      afterScript: ['echo "after: $CI_JOB_STATUS"'],
      dependencies: [dependency],
      cache: [{ key: 'deps', paths: ['out/'], policy: 'pull-push', when: 'on_success' }],
      artifacts: [
        {
          paths: ['out/'],
          when: 'on_success',
          artifact_type: 'archive',
          artifact_format: 'zip',
          expire_in: '1 day',
        },
      ],
    });
    const { outcome, trace } = await harness.run(job);
    assert.deepEqual(outcome, { state: 'success', message: 'Job succeeded' });
    const structure = traceStructure(trace);
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, `${structure.join('\n')}\n`);
    assert.deepEqual(structure, (await readFile(GOLDEN, 'utf8')).trimEnd().split('\n'));
    assert.match(trace, /\nfrom build\n/);
    assert.match(trace, /\nafter: success\n/);
    assert.equal(harness.artifacts.uploads.length, 1);
    assert.equal(harness.artifacts.uploads[0]?.filename, 'artifacts.zip');
    assert.equal(trace.includes(JOB_TOKEN), false);
  });

  it('a script exiting 3 fails the job as script_failure with exit code 3', async () => {
    const { outcome, trace } = await harness.run(
      harness.job({ script: ['echo before', 'exit 3', 'echo never'] }),
    );
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'script_failure',
      exitCode: 3,
      message: 'Job failed: exit code 3',
    });
    assert.equal(trace.includes('never\n'), false);
    assert.ok(trace.endsWith('\x1b[31;1mERROR: Job failed: exit code 3\x1b[0;m\n'));
  });

  it('after_script runs after a failure, sees CI_JOB_STATUS=failed and does not change the result', async () => {
    const { outcome, trace } = await harness.run(
      harness.job({ script: ['exit 4'], afterScript: ['echo "status is $CI_JOB_STATUS"', 'exit 9'] }),
    );
    assert.equal(outcome.failureReason, 'script_failure');
    assert.equal(outcome.exitCode, 4);
    assert.match(trace, /\nstatus is failed\n/);
    assert.match(trace, /WARNING: after_script failed, but job will continue unaffected: exit code 9/);
    assert.match(trace, /section_start:\d+:cleanup_file_variables/);
  });

  it('a failing after_script leaves a successful job successful, unless AFTER_SCRIPT_IGNORE_ERRORS=false', async () => {
    const ignored = await harness.run(
      harness.job({ script: ['true'], afterScript: ['echo "status is $CI_JOB_STATUS"', 'exit 2'] }),
    );
    assert.equal(ignored.outcome.state, 'success');
    assert.match(ignored.trace, /\nstatus is success\n/);
    const strict = await harness.run(
      harness.job({
        script: ['true'],
        afterScript: ['exit 2'],
        variables: [{ key: 'AFTER_SCRIPT_IGNORE_ERRORS', value: 'false' }],
      }),
    );
    assert.deepEqual(strict.outcome, {
      state: 'failed',
      failureReason: 'script_failure',
      exitCode: 2,
      message: 'Job failed: exit code 2',
    });
  });

  it('after_script has its own timeout and still does not change the result', async () => {
    const { outcome, trace, elapsedMs } = await harness.run(
      harness.job({
        script: ['true'],
        afterScript: ['sleep 30'],
        variables: [{ key: 'AFTER_SCRIPT_TIMEOUT', value: '500ms' }],
      }),
    );
    assert.equal(outcome.state, 'success');
    assert.match(trace, /WARNING: after_script could not run to completion because the timeout was exceeded/);
    // Bounded by the 500 ms timeout, not by the 30 s sleep (slack for a loaded machine).
    assert.ok(elapsedMs < 15_000, `took ${elapsedMs} ms`);
  });

  it('a hard cancel mid-script ends the job within 2 s, kills the stage’s processes and skips after_script', async () => {
    const cancel = new AbortController();
    const trigger = cancelWhen(cancel, /pgid=(\d+)\n/, { kind: 'canceled' });
    const executor = countingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }));
    const { outcome, trace } = await harness.run(
      harness.job({
        script: ['echo "pgid=$$"', 'sleep 30 & sleep 30'],
        afterScript: ['echo after-script-ran'],
      }),
      { cancel: cancel.signal, executor, onTrace: trigger.onTrace },
    );
    const cancelToEnd = Date.now() - trigger.at();
    assert.ok(trigger.at() > 0, 'the script started');
    assert.ok(cancelToEnd < 2000, `cancel took ${cancelToEnd} ms`);
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'unknown_failure',
      message: 'Job failed: canceled',
    });
    assert.deepEqual(groupMembers(trigger.pgid()), [], 'no process of the stage is left');
    assert.equal(trace.includes('after-script-ran'), false);
    assert.equal(/section_start:\d+:cleanup_file_variables/.test(trace), false);
    assert.equal(executor.closes, 1);
  });

  it('a graceful cancel stops the script but runs after_script with CI_JOB_STATUS=canceled', async () => {
    const cancel = new AbortController();
    const trigger = cancelWhen(cancel, /pgid=(\d+)\n/, { kind: 'canceling' });
    const { outcome, trace } = await harness.run(
      harness.job({ script: ['echo "pgid=$$"', 'sleep 30'], afterScript: ['echo "after: $CI_JOB_STATUS"'] }),
      { cancel: cancel.signal, onTrace: trigger.onTrace },
    );
    assert.ok(Date.now() - trigger.at() < 3000);
    assert.equal(outcome.message, 'Job failed: canceled');
    assert.match(trace, /WARNING: script canceled externally \(UI, API\)/);
    assert.match(trace, /\nafter: canceled\n/);
    assert.match(trace, /section_start:\d+:cleanup_file_variables/);
  });

  it('a shutdown is reported as runner_interrupted when GitLab knows that reason', async () => {
    const cancel = new AbortController();
    const trigger = cancelWhen(cancel, /pgid=(\d+)\n/, { kind: 'shutdown' });
    const job = harness.job({ script: ['echo "pgid=$$"', 'sleep 30'] });
    job.features.failure_reasons = [...(job.features.failure_reasons ?? []), 'runner_interrupted'];
    const { outcome } = await harness.run(job, { cancel: cancel.signal, onTrace: trigger.onTrace });
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'runner_interrupted',
      message: 'Job failed: aborted: runner shutting down',
    });
  });

  it('the job timeout fails the job with job_execution_timeout and skips everything after', async () => {
    const executor = countingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }));
    const { outcome, trace, elapsedMs } = await harness.run(
      harness.job({ script: ['sleep 30'], afterScript: ['echo after-script-ran'], timeout: 3 }),
      { executor },
    );
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'job_execution_timeout',
      message: 'Job failed: execution took longer than 3s seconds',
    });
    // Normally step_script; on a very slow machine the deadline may already hit get_sources.
    assert.match(
      trace,
      /WARNING: (step_script|get_sources) could not run to completion because the timeout was exceeded\./,
    );
    assert.equal(trace.includes('after-script-ran'), false);
    // Bounded by the 3 s job timeout, not by the 30 s sleep (slack for a loaded machine).
    assert.ok(elapsedMs < 15_000, `took ${elapsedMs} ms`);
    assert.equal(executor.closes, 1);
  });

  it('RUNNER_SCRIPT_TIMEOUT stops the script, after_script sees timedout, and uploads still run', async () => {
    const { outcome, trace } = await harness.run(
      harness.job({
        script: ['mkdir -p out && echo partial > out/p.txt', 'sleep 30'],
        afterScript: ['echo "after: $CI_JOB_STATUS"'],
        variables: [{ key: 'RUNNER_SCRIPT_TIMEOUT', value: '1s' }],
        artifacts: [
          { paths: ['out/'], when: 'on_failure', artifact_type: 'archive', artifact_format: 'zip' },
        ],
      }),
    );
    assert.equal(outcome.failureReason, 'job_execution_timeout');
    assert.equal(outcome.message, 'Job failed: script timeout: context deadline exceeded');
    assert.match(trace, /\nafter: timedout\n/);
    assert.match(trace, /section_start:\d+:upload_artifacts_on_failure/);
  });

  it('masks masked variables and token prefixes echoed by the script', async () => {
    const secret = 'sup3r-s3cret-value';
    const { outcome, trace } = await harness.run(
      harness.job({
        script: [
          'echo "secret=$MY_SECRET"',
          'echo "$MY_SECRET" >&2',
          'echo "token=$CI_JOB_TOKEN"',
          'echo glpat-abcdef123456',
        ],
        variables: [{ key: 'MY_SECRET', value: secret, masked: true }],
      }),
    );
    assert.equal(outcome.state, 'success');
    assert.equal(trace.includes(secret), false);
    assert.equal(trace.includes(JOB_TOKEN), false);
    assert.match(trace, /\nsecret=\[MASKED\]\n/);
    assert.match(trace, /\ntoken=\[MASKED\]\n/);
    assert.match(trace, /\nglpat-\[MASKED\]\n/);
  });

  it('a failed artifact upload fails an otherwise successful job', async () => {
    harness.artifacts.failUploadsWith = { outcome: 'failed', message: 'server said no', status: 500 };
    try {
      const { outcome } = await harness.run(
        harness.job({
          script: ['mkdir -p out && echo x > out/x.txt'],
          artifacts: [
            { paths: ['out/'], when: 'on_success', artifact_type: 'archive', artifact_format: 'zip' },
          ],
        }),
        { tuning: {} },
      );
      assert.equal(outcome.state, 'failed');
      assert.equal(outcome.failureReason, 'script_failure');
    } finally {
      harness.artifacts.failUploadsWith = undefined;
    }
  });

  it('retries get_sources GET_SOURCES_ATTEMPTS times, clearing the worktree before the second try', async () => {
    const missing = 'f'.repeat(40);
    const { outcome, trace } = await harness.run(
      harness.job({
        sha: missing,
        script: ['echo script-ran'],
        afterScript: ['echo after-ran'],
        variables: [{ key: 'GET_SOURCES_ATTEMPTS', value: '2' }],
      }),
    );
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.failureReason, 'script_failure');
    assert.equal(trace.match(/section_start:\d+:get_sources/g)?.length, 2);
    assert.equal(trace.match(/section_start:\d+:clear_worktree/g)?.length, 1);
    assert.match(trace, /WARNING: Retrying\.\.\./);
    assert.equal(trace.includes('script-ran\n'), false);
    assert.equal(trace.includes('after-ran\n'), false);
    assert.match(trace, /section_start:\d+:cleanup_file_variables/);
  });

  it('a missing dependency archive fails the job before the script, after ARTIFACT_DOWNLOAD_ATTEMPTS tries', async () => {
    const job = harness.job({
      script: ['echo script-ran'],
      dependencies: [
        {
          id: 901,
          name: 'gone',
          token: 'glcbt-gone',
          artifacts_file: { filename: 'artifacts.zip', size: 1 },
        },
      ],
      variables: [{ key: 'ARTIFACT_DOWNLOAD_ATTEMPTS', value: '2' }],
    });
    job.features.failure_reasons = [...(job.features.failure_reasons ?? []), 'artifact_download_failure'];
    const { outcome, trace } = await harness.run(job);
    assert.equal(outcome.failureReason, 'artifact_download_failure');
    assert.equal(trace.match(/section_start:\d+:download_artifacts/g)?.length, 2);
    assert.equal(trace.includes('script-ran\n'), false);
  });

  it('an executor that cannot prepare is tried 3 times and the job ends as a system failure', async () => {
    let attempts = 0;
    const broken: Executor = {
      name: 'qemu',
      prepare: async () => {
        attempts += 1;
        throw new Error('no kvm');
      },
    };
    const { outcome, trace } = await harness.run(harness.job(), { executor: broken });
    assert.equal(attempts, 3);
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'runner_system_failure',
      message: 'Job failed (system failure): no kvm',
    });
    assert.equal(trace.match(/ERROR: Preparation failed: no kvm/g)?.length, 3);
    assert.equal(trace.match(/Will be retried in 0s \.\.\./g)?.length, 2);
    assert.match(trace, /Preparing the "qemu" executor/);
  });

  it("starts the environment's services inside prepare_executor, with the job's variables, before any stage", async () => {
    const seen: { variables: string[]; followLogs: boolean; stagesBefore: number }[] = [];
    let execs = 0;
    const executor: Executor = {
      name: 'qemu',
      async prepare(options) {
        const env = await new ShellExecutor({ buildsDir: harness.buildsDir }).prepare(options);
        return {
          executorName: env.executorName,
          buildsDir: env.buildsDir,
          disposable: env.disposable,
          exec: (exec) => {
            execs += 1;
            return env.exec(exec);
          },
          close: () => env.close(),
          startServices: async (start) => {
            seen.push({ variables: start.variables.map((variable) => variable.key), followLogs: start.followLogs, stagesBefore: execs });
            start.log('SERVICES-STARTED');
          },
        };
      },
    };
    const job = harness.job({ variables: [{ key: 'CI_DEBUG_SERVICES', value: 'true', public: true }] });
    const { outcome, trace } = await harness.run(job, { executor });
    assert.equal(outcome.state, 'success', trace);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.stagesBefore, 0);
    assert.equal(seen[0]?.followLogs, true);
    assert.ok(seen[0]?.variables.includes('CI_PROJECT_DIR'), 'the built job variables, not only the payload');
    assert.match(trace, /section_start:\d+:prepare_executor[\s\S]*SERVICES-STARTED[\s\S]*section_end:\d+:prepare_executor/);
  });

  it('services that cannot start fail the job in prepare_executor, and the environment is released', async () => {
    const executor = countingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }));
    const failing: Executor = {
      name: 'qemu',
      async prepare(options) {
        const env = await executor.prepare(options);
        return { ...env, close: () => env.close(), exec: (exec) => env.exec(exec), startServices: () => Promise.reject(new Error('No command specified')) };
      },
    };
    const { outcome, trace } = await harness.run(harness.job(), { executor: failing });
    assert.deepEqual(outcome, { state: 'failed', failureReason: 'runner_system_failure', message: 'Job failed (system failure): No command specified' });
    assert.match(trace, /ERROR: Preparation failed: No command specified/);
    assert.doesNotMatch(trace, /section_start:\d+:get_sources/);
    assert.equal(executor.closes, 1);
  });

  it('a failing prepare_script ends the job at once with gitlab-runner’s shell-profile hint', async () => {
    const executor = interceptingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }), (call) =>
      call === 0 ? Promise.resolve({ exitCode: 1 }) : undefined,
    );
    const { outcome, trace } = await harness.run(harness.job(), { executor });
    assert.equal(
      outcome.message,
      'Job failed: prepare environment: exit code 1. Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information',
    );
    assert.equal(outcome.failureReason, 'script_failure');
    assert.equal(/section_start:\d+:(get_sources|cleanup_file_variables)/.test(trace), false);
  });

  it('a broken environment is a system failure, retried EXECUTOR_JOB_SECTION_ATTEMPTS times', async () => {
    const lost = (): Promise<ExecResult> => Promise.reject(new Error('connection lost'));
    const once = interceptingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }), (call) =>
      call === 2 ? lost() : undefined,
    );
    const retried = await harness.run(
      harness.job({ variables: [{ key: 'EXECUTOR_JOB_SECTION_ATTEMPTS', value: '2' }] }),
      { executor: once },
    );
    assert.equal(retried.outcome.state, 'success');
    assert.match(retried.trace, /WARNING: Retrying step_script/);
    const always = interceptingExecutor(new ShellExecutor({ buildsDir: harness.buildsDir }), (call) =>
      call >= 2 ? lost() : undefined,
    );
    const { outcome } = await harness.run(harness.job(), { executor: always });
    assert.deepEqual(outcome, {
      state: 'failed',
      failureReason: 'runner_system_failure',
      message: 'Job failed (system failure): connection lost',
    });
  });

  it('a cancel before the job starts still prints header and footer and releases nothing it did not take', async () => {
    const cancel = new AbortController();
    cancel.abort({ kind: 'canceled' });
    const { outcome, trace } = await harness.run(harness.job(), { cancel: cancel.signal });
    assert.equal(outcome.message, 'Job failed: canceled');
    assert.match(trace, /^\x1b\[0KRunning with tart 0\.1\.0 \(abc12345\)/);
  });
});

// Builds a zip with the real zip CLI.
async function makeZip(path: string, files: Record<string, string>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tart-zip-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(work, name), content);
    await mkdir(dirname(path), { recursive: true });
    if (existsSync(path)) await rm(path);
    await execFileAsync('zip', ['-q', '-r', path, '.'], { cwd: work });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
