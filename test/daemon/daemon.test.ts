// The daemon end to end: fake GitLab on loopback, the shell executor, real bash and git.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startWidgetDaemon, type Harness } from './daemon-harness.js';
import { waitFor } from '../support/wait-for.js';

const RUNNER_TOKEN = 'glrt-daemon_test_token_0001';

describe('tart run against the fake GitLab', () => {
  let fake: FakeGitLab;
  let harness: Harness;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, harness, cleanup } = await startWidgetDaemon({
      token: RUNNER_TOKEN,
      files: { 'README.md': '# widget\n' },
      daemon: { concurrent: 2 },
    }));
  });

  after(() => cleanup());

  it('runs a job end to end: complete trace, verified checksum, success', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo "hello from the job"', 'cat README.md'] });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 30_000);
    assert.equal(done.state, 'success');
    assert.equal(done.checksumOk, true);
    assert.equal(done.bytesizeOk, true);
    const trace = done.trace.toString();
    assert.match(trace, /hello from the job/);
    assert.match(trace, /# widget/);
    assert.match(trace, /Job succeeded/);
    assert.deepEqual(done.rawTrace, harness.printed.get(job.id));
    assert.deepEqual(fake.violations, []);
  });

  it('reports `exit 3` as failed, script_failure, exit_code 3', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo before', 'exit 3', 'echo never'] });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'failed' || j.state === 'success', 30_000);
    assert.equal(done.state, 'failed');
    assert.equal(done.failureReason, 'script_failure');
    assert.equal(done.exitCode, 3);
    assert.equal(done.checksumOk, true);
    assert.doesNotMatch(done.trace.toString(), /never/);
    assert.match(done.trace.toString(), /ERROR: Job failed: exit code 3/);
  });

  it('keeps the trace byte-identical through 500s, a dropped connection and a 416', async () => {
    fake.injectFault({ endpoint: 'trace', kind: 'status', status: 500, count: 2, after: 1 });
    fake.injectFault({ endpoint: 'trace', kind: 'drop', afterHandling: true, after: 1 });
    fake.injectFault({ endpoint: 'trace', kind: 'trace-416', after: 1 });
    fake.injectFault({ endpoint: 'trace', kind: 'drop' });
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['for i in $(seq 1 40); do seq -f "line %g of output" 1 500; sleep 0.05; done'],
    });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 60_000);
    assert.equal(done.state, 'success');
    assert.equal(done.checksumOk, true);
    assert.deepEqual(done.rawTrace, harness.printed.get(job.id));
    assert.equal(fake.pendingFaults(), 0, 'every injected fault was exercised');
    const lines = done.trace.toString().split('\n').filter((line) => line.startsWith('line 500 of output'));
    assert.equal(lines.length, 40);
  });

  it('ends a job canceled mid-run within 2 s', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo started', 'sleep 60'] });
    await fake.waitForJob(job.id, (j) => j.trace.toString().includes('started'), 30_000);
    const canceledAt = Date.now();
    fake.cancelJob(job.id, { graceful: false });
    await waitFor(() => harness.daemonIdle(job.id), 5_000);
    assert.ok(Date.now() - canceledAt < 2_000 + 300, `job ended ${Date.now() - canceledAt} ms after the cancel`);
    assert.equal(fake.job(job.id).state, 'canceled');
  });

  it('runs after_script on a graceful cancel, and stops it when GitLab force-cancels', async () => {
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['echo started', 'sleep 60'],
      afterScript: ['echo "after: $CI_JOB_STATUS"', 'sleep 60'],
    });
    await fake.waitForJob(job.id, (j) => j.trace.toString().includes('started'), 30_000);
    fake.cancelJob(job.id, { graceful: true });
    await fake.waitForJob(job.id, (j) => j.trace.toString().includes('after: canceled'), 10_000);
    const forcedAt = Date.now();
    fake.cancelJob(job.id, { graceful: false });
    await waitFor(() => harness.daemonIdle(job.id), 5_000);
    assert.ok(Date.now() - forcedAt < 2_300, `job ended ${Date.now() - forcedAt} ms after the force cancel`);
    assert.equal(fake.job(job.id).state, 'canceled');
  });

  it('fails a job that runs past its timeout with job_execution_timeout', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['sleep 30'], timeout: 2 });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'failed' || j.state === 'success', 20_000);
    assert.equal(done.state, 'failed');
    assert.equal(done.failureReason, 'job_execution_timeout');
    assert.match(done.trace.toString(), /execution took longer than/);
  });

  it('fails a malformed payload with a reason and keeps polling', async () => {
    const bad = fake.enqueueRaw({ id: 777001, token: 'glcbt-malformed-token-1', git_info: 'not an object', steps: 3 });
    const good = fake.enqueueJob({ project: 'acme/widget', script: ['echo still alive'] });
    const failed = await fake.waitForJob(bad.id, (j) => j.state === 'failed', 20_000);
    assert.equal(failed.failureReason, 'runner_system_failure');
    assert.match(failed.trace.toString(), /invalid job payload/);
    const done = await fake.waitForJob(good.id, (j) => j.state === 'success', 30_000);
    assert.match(done.trace.toString(), /still alive/);
  });

  it('never writes the runner token or a job token to its logs', () => {
    assert.ok(harness.logs().length > 0);
    assert.doesNotMatch(harness.logs(), new RegExp(RUNNER_TOKEN));
    assert.doesNotMatch(harness.logs(), /glcbt-[A-Za-z0-9_-]{8,}/);
  });
});
