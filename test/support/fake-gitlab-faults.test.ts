// Every scripted fault kind does what it says, to the requests it is meant for, in order.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { callApi, jobRequestBody, runningJob } from './fake-gitlab/client.js';
import { startFakeGitLab, traceChecksum, type FakeGitLab, type FakeJob } from './fake-gitlab/index.js';

const RUNNER = 'glrt-faults';
let fake: FakeGitLab;

beforeEach(async () => {
  fake = await startFakeGitLab();
  fake.addRunner({ token: RUNNER });
});
afterEach(() => fake.close());

const requestJob = () =>
  callApi(fake.url, { method: 'POST', path: 'api/v4/jobs/request', json: jobRequestBody(RUNNER) });
const put = (job: FakeJob, json: Record<string, unknown>) =>
  callApi(fake.url, {
    method: 'PUT',
    path: `api/v4/jobs/${job.id}`,
    json: { token: job.token, ...json },
    headers: { 'JOB-TOKEN': job.token },
  });
const patch = (job: FakeJob, start: number, text: string) =>
  callApi(fake.url, {
    method: 'PATCH',
    path: `api/v4/jobs/${job.id}/trace`,
    body: text,
    headers: { 'JOB-TOKEN': job.token, 'Content-Range': `${start}-${start + Buffer.byteLength(text) - 1}` },
  });

describe('fault injection', () => {
  it('answers with an injected status for `count` requests without touching state, then normally', async () => {
    fake.enqueueJob();
    fake.injectFault({
      endpoint: 'request',
      kind: 'status',
      status: 503,
      headers: { 'Retry-After': '1' },
      count: 2,
    });
    const first = await requestJob();
    assert.deepEqual([first.status, first.headers['retry-after']], [503, '1']);
    assert.equal((await requestJob()).status, 503);
    assert.equal(fake.pendingFaults(), 0);
    assert.equal((await requestJob()).status, 201, 'the job was still queued');
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [503, 503, 201],
    );
  });

  it('applies a fault only after `after` requests passed untouched', async () => {
    fake.injectFault({ endpoint: 'request', kind: 'status', status: 500, after: 2 });
    assert.deepEqual(
      [
        (await requestJob()).status,
        (await requestJob()).status,
        (await requestJob()).status,
        (await requestJob()).status,
      ],
      [204, 204, 500, 204],
    );
  });

  it('drops the connection before handling: the runner sees a socket error and nothing changed', async () => {
    const job = fake.enqueueJob();
    fake.injectFault({ endpoint: 'request', kind: 'drop' });
    await assert.rejects(requestJob(), /socket hang up|ECONNRESET/);
    assert.equal(fake.job(job.id).assignedTo, undefined);
    assert.equal(fake.requests.at(-1)?.status, 'dropped');
    assert.equal((await requestJob()).status, 201);
  });

  it('drops the answer after handling: the patch was stored, so resending it gets 416 with the true size', async () => {
    const job = await runningJob(fake, RUNNER);
    fake.injectFault({ endpoint: 'trace', kind: 'drop', afterHandling: true });
    await assert.rejects(patch(job, 0, 'hello'), /socket hang up|ECONNRESET/);
    assert.equal(fake.job(job.id).trace.toString(), 'hello');
    const resent = await patch(job, 0, 'hello');
    assert.deepEqual([resent.status, resent.headers.range], [416, '0-5']);
  });

  it('lets a job whose 201 was lost be handed out again after requeueJob', async () => {
    const job = fake.enqueueJob();
    fake.injectFault({ endpoint: 'request', kind: 'drop', afterHandling: true });
    await assert.rejects(requestJob());
    assert.equal(fake.job(job.id).state, 'pending');
    assert.ok(fake.job(job.id).assignedTo);
    assert.equal((await requestJob()).status, 204);
    fake.requeueJob(job.id);
    assert.equal(((await requestJob()).json as { id: number }).id, job.id);
  });

  it('delays a request by the given time and then handles it normally', async () => {
    fake.injectFault({ endpoint: 'request', kind: 'delay', ms: 150 });
    const started = Date.now();
    assert.equal((await requestJob()).status, 204);
    assert.ok(Date.now() - started >= 140);
  });

  it('answers trace-416 with the current size and stores nothing', async () => {
    const job = await runningJob(fake, RUNNER);
    await patch(job, 0, 'abc');
    fake.injectFault({ endpoint: 'trace', kind: 'trace-416' });
    const refused = await patch(job, 3, 'def');
    assert.deepEqual([refused.status, refused.headers.range], [416, '0-3']);
    assert.equal(fake.job(job.id).trace.toString(), 'abc');
    assert.equal((await patch(job, 3, 'def')).status, 202);
  });

  it('answers final updates with 202 + X-GitLab-Trace-Update-Interval `times` times; keep-alives pass through', async () => {
    const job = await runningJob(fake, RUNNER);
    fake.injectFault({ endpoint: 'update', kind: 'update-202', times: 2, interval: 1 });
    assert.equal((await put(job, { state: 'running' })).status, 200);
    const final = { state: 'success', output: { checksum: traceChecksum(Buffer.alloc(0)) } };
    const first = await put(job, final);
    assert.deepEqual(
      [first.status, first.headers['x-gitlab-trace-update-interval'], first.headers['job-status']],
      [202, '1', 'running'],
    );
    assert.equal((await put(job, final)).status, 202);
    assert.equal(fake.job(job.id).state, 'running');
    assert.equal((await put(job, final)).status, 200);
    assert.equal(fake.job(job.id).state, 'success');
    assert.deepEqual(
      fake.job(job.id).updates.map((u) => u.status),
      [200, 200, 202, 202, 200],
    );
  });

  it('refuses protocol-specific faults on the wrong endpoint', () => {
    assert.throws(
      () => fake.injectFault({ endpoint: 'update', kind: 'trace-416' }),
      /only applies to the trace endpoint/,
    );
    assert.throws(
      () => fake.injectFault({ endpoint: 'request', kind: 'status', status: 500, count: 0 }),
      /positive integer/,
    );
  });

  it('consumes faults for one endpoint in the order they were injected', async () => {
    fake.injectFault({ endpoint: 'request', kind: 'status', status: 500 });
    fake.injectFault({ endpoint: 'request', kind: 'status', status: 429 });
    fake.injectFault({ endpoint: 'update', kind: 'status', status: 502 });
    assert.deepEqual(
      [(await requestJob()).status, (await requestJob()).status, (await requestJob()).status],
      [500, 429, 204],
    );
    assert.equal(fake.pendingFaults(), 1);
  });
});
