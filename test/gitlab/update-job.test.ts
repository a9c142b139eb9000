import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { mapFailureReason } from '../../src/gitlab/failure-reason.js';
import { acceptJob, updateJob } from '../../src/gitlab/update-job.js';
import { json, reply, startScriptedServer } from './helpers/scripted-server.js';

const job = { jobId: 77, jobToken: 'glcbt-job', retry: { maxAttempts: 1 } };

describe('updateJob', () => {
  it('sends the final state with the exact body of §5.1', async (t) => {
    const server = await startScriptedServer([
      reply(200, { headers: { 'Job-Status': 'failed' }, body: '200' }),
    ]);
    t.after(() => server.close());
    const result = await updateJob({
      ...job,
      url: server.url,
      state: 'failed',
      failureReason: 'runner_configuration_error',
      supportedFailureReasons: ['script_failure'],
      exitCode: 2,
      checksum: 'crc32:0a3f91bc',
      bytesize: 5123,
    });
    assert.deepEqual(result, { outcome: 'gone', jobStatus: 'failed' });
    const request = server.requests[0]!;
    assert.equal(request.method, 'PUT');
    assert.equal(request.path, '/api/v4/jobs/77');
    assert.equal(request.headers['job-token'], 'glcbt-job');
    assert.deepEqual(json(request), {
      token: 'glcbt-job',
      state: 'failed',
      failure_reason: 'script_failure',
      checksum: 'crc32:0a3f91bc',
      output: { checksum: 'crc32:0a3f91bc', bytesize: 5123 },
      exit_code: 2,
    });
  });

  it('omits exit_code 0, failure_reason on success and empty output fields', async (t) => {
    const server = await startScriptedServer([reply(200, { headers: { 'Job-Status': 'success' } })]);
    t.after(() => server.close());
    const result = await updateJob({
      ...job,
      url: server.url,
      state: 'success',
      exitCode: 0,
      failureReason: 'script_failure',
    });
    assert.deepEqual(result, { outcome: 'accepted', jobStatus: 'success' });
    assert.deepEqual(json(server.requests[0]!), { token: 'glcbt-job', state: 'success', output: {} });
  });

  it('waits X-GitLab-Trace-Update-Interval after a 202 and resends until accepted', async (t) => {
    const server = await startScriptedServer([
      reply(202, { headers: { 'X-GitLab-Trace-Update-Interval': '1' } }),
      reply(202),
      reply(200),
    ]);
    t.after(() => server.close());
    const started = Date.now();
    const result = await updateJob({
      ...job,
      url: server.url,
      state: 'success',
      checksum: 'crc32:00000000',
      defaultAcceptWaitMs: 10,
    });
    assert.equal(result.outcome, 'accepted');
    assert.equal(server.requests.length, 3);
    assert.ok(Date.now() - started >= 950, 'honoured the 1 s interval');
  });

  it('gives up after a bounded number of 202s', async (t) => {
    const server = await startScriptedServer([reply(202)]);
    t.after(() => server.close());
    await assert.rejects(
      updateJob({ ...job, url: server.url, state: 'success', maxAcceptWaits: 2, defaultAcceptWaitMs: 1 }),
      (error: unknown) => hasCode(error, 'GITLAB_UPDATE_FAILED'),
    );
    assert.equal(server.requests.length, 3);
  });

  it('reads 403 as canceled or gone by Job-Status, and other failures as GITLAB_UPDATE_FAILED', async (t) => {
    const server = await startScriptedServer([
      reply(403, { headers: { 'Job-Status': 'canceled' } }),
      reply(403, { headers: { 'Job-Status': 'canceling' } }),
      reply(403),
      reply(404),
      reply(400, { json: { message: 'state is invalid glcbt-job' } }),
    ]);
    t.after(() => server.close());
    const update = (): ReturnType<typeof updateJob> =>
      updateJob({ ...job, url: server.url, state: 'running' });
    assert.deepEqual(await update(), { outcome: 'canceled', jobStatus: 'canceled' });
    assert.deepEqual(await update(), { outcome: 'canceled', jobStatus: 'canceling' });
    assert.deepEqual(await update(), { outcome: 'gone' });
    assert.deepEqual(await update(), { outcome: 'gone' });
    await assert.rejects(update(), (error: unknown) => {
      assert.ok(hasCode(error, 'GITLAB_UPDATE_FAILED'));
      assert.doesNotMatch(error.message, /glcbt-job/);
      return true;
    });
  });

  it('retries a final state that fails outright, as gitlab-runner’s final update does', async (t) => {
    const server = await startScriptedServer([
      reply(409),
      reply(400),
      reply(200, { headers: { 'Job-Status': 'success' } }),
    ]);
    t.after(() => server.close());
    const result = await updateJob({
      ...job,
      url: server.url,
      state: 'success',
      finalUpdateBackoffScale: 0.001,
    });
    assert.deepEqual(result, { outcome: 'accepted', jobStatus: 'success' });
    assert.equal(server.requests.length, 3);
  });

  it('accepts a job with PUT state=running and an empty output, reporting a cancel request', async (t) => {
    const server = await startScriptedServer([reply(200, { headers: { 'Job-Status': 'canceling' } })]);
    t.after(() => server.close());
    const result = await acceptJob({ ...job, url: server.url });
    assert.deepEqual(result, { outcome: 'accepted', jobStatus: 'canceling' });
    assert.deepEqual(json(server.requests[0]!), { token: 'glcbt-job', state: 'running', output: {} });
  });
});

describe('mapFailureReason', () => {
  const full = [
    'unknown_failure',
    'script_failure',
    'runner_system_failure',
    'job_execution_timeout',
    'runner_configuration_error',
    'runner_interrupted',
  ];
  it('sends supported reasons as they are', () => {
    assert.equal(mapFailureReason('runner_configuration_error', full), 'runner_configuration_error');
    assert.equal(mapFailureReason('runner_interrupted', full), 'runner_interrupted');
  });
  it('assumes only the three always-supported reasons when GitLab lists none', () => {
    assert.equal(mapFailureReason('job_execution_timeout', undefined), 'job_execution_timeout');
    assert.equal(mapFailureReason('runner_configuration_error', undefined), 'script_failure');
    assert.equal(mapFailureReason('image_pull_failure', undefined), 'runner_system_failure');
    assert.equal(mapFailureReason('runner_external_dependency_failure', []), 'runner_system_failure');
    assert.equal(mapFailureReason('artifact_upload_failure', full), 'script_failure');
  });
  it('falls back to unknown_failure, and to script_failure for an empty reason', () => {
    assert.equal(mapFailureReason('runner_interrupted', undefined), 'unknown_failure');
    assert.equal(mapFailureReason('job_canceled', full), 'unknown_failure');
    assert.equal(mapFailureReason(undefined, full), 'script_failure');
    assert.equal(mapFailureReason('', full), 'script_failure');
  });
});
