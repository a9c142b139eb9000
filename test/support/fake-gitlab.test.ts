// The fake GitLab answers the runner API the way GitLab does, and refuses what GitLab refuses.
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { callApi, jobRequestBody, runnerFeatures } from './fake-gitlab/client.js';
import { startFakeGitLab, traceChecksum, type FakeGitLab } from './fake-gitlab/index.js';

const RUNNER = 'glrt-t1_AbCdEfGhIjKlMnOpQrSt';
let fake: FakeGitLab;

beforeEach(async () => {
  fake = await startFakeGitLab();
  fake.addRunner({ token: RUNNER });
});
afterEach(async () => {
  await fake.close();
});

const api = (method: string, path: string, json?: unknown, headers?: Record<string, string>) =>
  callApi(fake.url, { method, path: `api/v4/${path}`, json, headers });

/** Requests a job as a two-phase-commit runner and acknowledges it with PUT state=running. */
async function takeAndStart(options: { features?: Record<string, boolean> } = {}) {
  const job = fake.enqueueJob();
  const answer = await api('POST', 'jobs/request', jobRequestBody(RUNNER, { features: options.features }));
  assert.equal(answer.status, 201);
  const start = await api(
    'PUT',
    `jobs/${job.id}`,
    { token: job.token, state: 'running' },
    { 'JOB-TOKEN': job.token },
  );
  assert.equal(start.status, 200);
  return job;
}

describe('runner registration', () => {
  it('issues a legacy runner token for a known registration token and rejects unknown ones', async () => {
    fake.addRegistrationToken('GR1348941regtoken');
    const created = await api('POST', 'runners', { token: 'GR1348941regtoken', description: 'tart' });
    assert.equal(created.status, 201);
    assert.match(created.headers['content-type'] ?? '', /^application\/json/);
    const body = created.json as { id: number; token: string; token_expires_at: null };
    assert.match(body.token, /^t1_[A-Za-z0-9]{20}$/);
    assert.equal(body.token_expires_at, null);
    assert.ok(fake.runner(body.token));

    assert.deepEqual((await api('POST', 'runners', { token: 'nope' })).json, { message: '403 Forbidden' });
    const missing = await api('POST', 'runners', { description: 'x' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, { error: 'token is missing' });
    const untagged = await api('POST', 'runners', { token: 'GR1348941regtoken', run_untagged: false });
    assert.equal(untagged.status, 400);
  });

  it('verifies a glrt- token, records its system_id and deletes only that manager', async () => {
    const verified = await api('POST', 'runners/verify', {
      token: RUNNER,
      system_id: 's_0123456789ab',
      info: { features: { cancel_gracefully: true } },
    });
    assert.equal(verified.status, 200);
    assert.deepEqual(Object.keys(verified.json as object).sort(), ['id', 'token', 'token_expires_at']);
    assert.ok(fake.runner(RUNNER)?.managers.has('s_0123456789ab'));

    assert.equal((await api('POST', 'runners/verify', { token: 'glrt-unknown' })).status, 403);
    assert.equal((await api('POST', 'runners/verify', {})).status, 400);
    assert.equal((await api('DELETE', 'runners/managers', { token: RUNNER })).status, 400);
    assert.equal(
      (await api('DELETE', 'runners/managers', { token: 'glrt-x', system_id: 's_0123456789ab' })).status,
      403,
    );
    const unknownManager = await api('DELETE', 'runners/managers', {
      token: RUNNER,
      system_id: 's_aaaaaaaaaaaa',
    });
    assert.deepEqual(
      [unknownManager.status, unknownManager.json],
      [404, { message: '404 Runner manager not found' }],
    );
    assert.equal(
      (await api('DELETE', 'runners/managers', { token: RUNNER, system_id: 's_0123456789ab' })).status,
      204,
    );
    assert.equal(fake.runner(RUNNER)?.managers.size, 0);
  });

  it('deletes a legacy runner with DELETE /runners and then forgets its token', async () => {
    fake.addRunner({ token: 't1_legacyRunnerToken0' });
    assert.equal((await api('DELETE', 'runners', { token: 't1_legacyRunnerToken0' })).status, 204);
    assert.equal(fake.runner('t1_legacyRunnerToken0'), undefined);
    assert.equal((await api('DELETE', 'runners', { token: 't1_legacyRunnerToken0' })).status, 403);
    assert.equal((await api('DELETE', 'runners', {})).status, 400);
  });

  it('rotates a runner token, after which only the new one works', async () => {
    const rotated = await api('POST', 'runners/reset_authentication_token', { token: RUNNER });
    assert.equal(rotated.status, 201);
    const { token } = rotated.json as { token: string };
    assert.match(token, /^glrt-/);
    assert.equal((await api('POST', 'jobs/request', jobRequestBody(RUNNER))).status, 403);
    assert.equal((await api('POST', 'jobs/request', jobRequestBody(token))).status, 204);
  });

  it('refuses an expired runner token everywhere, and gives a rotated token the same lifetime', async () => {
    fake.addRunner({ token: 'glrt-expired', tokenExpiresAt: new Date(Date.now() - 1000).toISOString() });
    assert.equal((await api('POST', 'jobs/request', jobRequestBody('glrt-expired'))).status, 403);
    assert.equal(
      (await api('POST', 'runners/verify', { token: 'glrt-expired', system_id: 's_0123456789ab' })).status,
      403,
    );
    const hour = 3_600_000;
    fake.addRunner({ token: 'glrt-hourly', tokenExpiresAt: new Date(Date.now() + hour).toISOString() });
    const rotated = await api('POST', 'runners/reset_authentication_token', { token: 'glrt-hourly' });
    const expiresIn =
      Date.parse((rotated.json as { token_expires_at: string }).token_expires_at) - Date.now();
    assert.ok(expiresIn > hour - 60_000 && expiresIn <= hour, `expires in ${expiresIn} ms`);
  });
});

describe('POST /jobs/request', () => {
  it('answers 204 with X-GitLab-Last-Update when empty, 403 for unknown tokens, 400 without token or features', async () => {
    const empty = await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    assert.equal(empty.status, 204);
    assert.match(empty.headers['x-gitlab-last-update'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal((await api('POST', 'jobs/request', jobRequestBody('glrt-unknown'))).status, 403);
    assert.deepEqual((await api('POST', 'jobs/request', { info: { features: {} } })).json, {
      error: 'token is missing',
    });
    assert.equal(
      (await api('POST', 'jobs/request', { token: RUNNER, system_id: 's_0123456789ab' })).status,
      400,
    );
  });

  it('hands out a job as JSON built from the fixture, with a fresh glcbt- token and a masked CI_JOB_TOKEN', async () => {
    const job = fake.enqueueJob({ script: ['make test'], timeout: 600 });
    const answer = await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    assert.equal(answer.status, 201);
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(answer.headers['x-gitlab-last-update'], undefined);
    const payload = answer.json as {
      id: number;
      token: string;
      variables: { key: string; value: string; masked: boolean }[];
      steps: { script: string[] }[];
      runner_info: { timeout: number };
      git_info: { repo_url: string };
    };
    assert.equal(payload.id, job.id);
    assert.match(payload.token, /^glcbt-64_[A-Za-z0-9]{20}$/);
    assert.deepEqual(
      payload.variables.find((v) => v.key === 'CI_JOB_TOKEN'),
      { key: 'CI_JOB_TOKEN', value: job.token, public: false, masked: true },
    );
    assert.deepEqual(payload.steps[0]?.script, ['make test']);
    assert.equal(payload.runner_info.timeout, 600);
    assert.equal(
      payload.git_info.repo_url,
      `http://gitlab-ci-token:${job.token}@127.0.0.1:${fake.port}/acme/widget.git`,
    );
    assert.equal(
      fake.job(job.id).state,
      'pending',
      'two-phase commit keeps the job pending until PUT running',
    );
  });

  it('answers an unchanged last_update with 204 at once, and a changed one by looking again', async () => {
    const first = await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    const lastUpdate = first.headers['x-gitlab-last-update'] ?? '';
    const same = await api('POST', 'jobs/request', jobRequestBody(RUNNER, { lastUpdate }));
    assert.deepEqual([same.status, same.headers['x-gitlab-last-update']], [204, lastUpdate]);
    fake.enqueueJob();
    assert.equal((await api('POST', 'jobs/request', jobRequestBody(RUNNER, { lastUpdate }))).status, 201);
  });

  it('hands each job to exactly one of many concurrent runners', async () => {
    for (let i = 0; i < 5; i += 1) fake.addRunner({ token: `glrt-racer${i}` });
    const jobs = Array.from({ length: 7 }, () => fake.enqueueJob());
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api('POST', 'jobs/request', jobRequestBody(`glrt-racer${i % 5}`))),
    );
    const handedOut = answers.filter((a) => a.status === 201).map((a) => (a.json as { id: number }).id);
    assert.deepEqual(handedOut.sort(), jobs.map((j) => j.id).sort());
    assert.equal(answers.filter((a) => a.status === 204).length, 33);
  });

  it('drops a job that needs a feature the runner did not declare, as runner_unsupported', async () => {
    const needy = fake.enqueueJob({
      artifacts: [
        {
          name: 'junit.xml',
          paths: ['junit.xml'],
          when: 'always',
          artifact_type: 'junit',
          artifact_format: 'gzip',
        },
      ],
    });
    const plain = fake.enqueueJob();
    const answer = await api(
      'POST',
      'jobs/request',
      jobRequestBody(RUNNER, { features: runnerFeatures({ upload_multiple_artifacts: false }) }),
    );
    assert.equal((answer.json as { id: number }).id, plain.id);
    assert.deepEqual(
      [fake.job(needy.id).state, fake.job(needy.id).failureReason],
      ['failed', 'runner_unsupported'],
    );
  });

  it('serves a raw payload byte for byte', async () => {
    const raw = '{"id": 77, "token": "glcbt-raw", "steps": [';
    fake.enqueueRaw(raw);
    const answer = await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    assert.deepEqual([answer.status, answer.text], [201, raw]);
  });
});

describe('long polling', () => {
  it('holds a request while last_update is current and releases it with a bare 204 when a job arrives', async () => {
    await fake.close();
    fake = await startFakeGitLab({ longPollMs: 20_000 });
    fake.addRunner({ token: RUNNER });
    const first = await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    const lastUpdate = first.headers['x-gitlab-last-update'] ?? '';
    const started = Date.now();
    const held = api('POST', 'jobs/request', jobRequestBody(RUNNER, { lastUpdate }));
    setTimeout(() => fake.enqueueJob(), 150);
    const released = await held;
    const waited = Date.now() - started;
    assert.ok(waited >= 140 && waited < 10_000, `waited ${waited} ms`);
    assert.deepEqual(
      [
        released.status,
        released.headers['x-gitlab-last-update'],
        released.headers['gitlab-ci-builds-polling'],
      ],
      [204, undefined, 'yes'],
    );
    assert.equal((await api('POST', 'jobs/request', jobRequestBody(RUNNER, { lastUpdate }))).status, 201);
  });

  it('answers 204 when the poll times out without a new job', async () => {
    await fake.close();
    fake = await startFakeGitLab({ longPollMs: 200 });
    fake.addRunner({ token: RUNNER });
    const lastUpdate =
      (await api('POST', 'jobs/request', jobRequestBody(RUNNER))).headers['x-gitlab-last-update'] ?? '';
    const started = Date.now();
    const answer = await api('POST', 'jobs/request', jobRequestBody(RUNNER, { lastUpdate }));
    assert.equal(answer.status, 204);
    assert.ok(Date.now() - started >= 190);
  });
});

describe('lifecycle', () => {
  it('closes promptly while a long poll is held, settling the waiting request', async () => {
    const slow = await startFakeGitLab({ longPollMs: 60_000 });
    slow.addRunner({ token: RUNNER });
    const first = await callApi(slow.url, {
      method: 'POST',
      path: 'api/v4/jobs/request',
      json: jobRequestBody(RUNNER),
    });
    const lastUpdate = first.headers['x-gitlab-last-update'] ?? '';
    const held = callApi(slow.url, {
      method: 'POST',
      path: 'api/v4/jobs/request',
      json: jobRequestBody(RUNNER, { lastUpdate }),
    });
    const settled = held.then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await slow.close();
    assert.ok(['answered', 'failed'].includes(await settled));
    assert.ok(Date.now() - started < 2000);
  });
});

describe('listening', () => {
  it('listens on another loopback address when asked, and tags every answer with X-Request-Id', async () => {
    const other = await startFakeGitLab({ listenHost: '127.0.0.2' });
    try {
      other.addRunner({ token: RUNNER });
      assert.equal(other.url, `http://127.0.0.2:${other.port}/`);
      const answer = await callApi(other.url, {
        method: 'POST',
        path: 'api/v4/jobs/request',
        json: jobRequestBody(RUNNER),
      });
      assert.equal(answer.status, 204);
      assert.match(answer.headers['x-request-id'] ?? '', /^[0-9A-F]{26}$/);
    } finally {
      await other.close();
    }
  });
});

describe('PUT /jobs/:id', () => {
  it('moves pending → running on acknowledgement and → success on the final update with a good checksum', async () => {
    const job = await takeAndStart();
    assert.equal(fake.job(job.id).state, 'running');
    const log = Buffer.from('hello\n');
    assert.equal(
      (
        await callApi(fake.url, {
          method: 'PATCH',
          path: `api/v4/jobs/${job.id}/trace`,
          body: log,
          headers: { 'JOB-TOKEN': job.token, 'Content-Range': `0-${log.length - 1}` },
        })
      ).status,
      202,
    );
    const checksum = `crc32:${crc32(log).toString(16).padStart(8, '0')}`;
    assert.equal(traceChecksum(log), checksum);
    const done = await api(
      'PUT',
      `jobs/${job.id}`,
      { token: job.token, state: 'success', output: { checksum, bytesize: log.length } },
      { 'JOB-TOKEN': job.token },
    );
    assert.deepEqual([done.status, done.headers['job-status']], [200, 'success']);
    const record = fake.job(job.id);
    assert.deepEqual([record.state, record.checksumOk, record.bytesizeOk], ['success', true, true]);
    assert.deepEqual(
      record.updates.map((u) => [u.state, u.status]),
      [
        ['running', 200],
        ['success', 200],
      ],
    );
    assert.deepEqual(fake.violations, []);
  });

  it('records a wrong checksum, the failure reason and exit code of a failed job', async () => {
    const job = await takeAndStart();
    await api(
      'PUT',
      `jobs/${job.id}`,
      {
        token: job.token,
        state: 'failed',
        failure_reason: 'script_failure',
        exit_code: 2,
        output: { checksum: 'crc32:deadbeef', bytesize: 3 },
      },
      { 'JOB-TOKEN': job.token },
    );
    const record = fake.job(job.id);
    assert.deepEqual(
      [record.state, record.failureReason, record.exitCode, record.checksumOk, record.bytesizeOk],
      ['failed', 'script_failure', 2, false, false],
    );
  });

  it('stores an unlisted failure reason as unknown_failure and reports the violation', async () => {
    const job = fake.enqueueJob({ features: { trace_sections: true, failure_reasons: ['script_failure'] } });
    await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    await api('PUT', `jobs/${job.id}`, { token: job.token, state: 'running' }, { 'JOB-TOKEN': job.token });
    await api(
      'PUT',
      `jobs/${job.id}`,
      {
        token: job.token,
        state: 'failed',
        failure_reason: 'runner_interrupted',
        output: { checksum: traceChecksum(Buffer.alloc(0)) },
      },
      { 'JOB-TOKEN': job.token },
    );
    assert.deepEqual(
      [fake.job(job.id).failureReason, fake.job(job.id).failureReasonSent],
      ['unknown_failure', 'runner_interrupted'],
    );
    assert.equal(fake.violations.length, 1);
    assert.match(fake.violations[0] ?? '', /runner_interrupted/);
  });

  it('takes the job token from the body when the header is absent, and refuses a wrong one without Job-Status', async () => {
    const job = await takeAndStart();
    assert.equal((await api('PUT', `jobs/${job.id}`, { token: job.token, state: 'running' })).status, 200);
    const wrong = await api('PUT', `jobs/${job.id}`, { token: 'glcbt-wrong', state: 'running' });
    assert.deepEqual(
      [wrong.status, wrong.headers['job-status'], wrong.json],
      [403, undefined, { message: '403 Forbidden' }],
    );
    assert.equal((await api('PUT', `jobs/${job.id}`, { token: job.token, state: 'canceled' })).status, 400);
  });

  it('answers 403 + Job-Status once the job has finished', async () => {
    const job = await takeAndStart();
    await api(
      'PUT',
      `jobs/${job.id}`,
      { token: job.token, state: 'success', output: { checksum: traceChecksum(Buffer.alloc(0)) } },
      { 'JOB-TOKEN': job.token },
    );
    const again = await api(
      'PUT',
      `jobs/${job.id}`,
      { token: job.token, state: 'running' },
      { 'JOB-TOKEN': job.token },
    );
    assert.deepEqual(
      [again.status, again.headers['job-status'], again.json],
      [403, 'success', { message: '403 Forbidden - Job is not processing on runner' }],
    );
  });

  it('makes a runner without two_phase_job_commit run the job at once and answers 409 to a pending keep-alive', async () => {
    const job = fake.enqueueJob();
    await api(
      'POST',
      'jobs/request',
      jobRequestBody(RUNNER, { features: runnerFeatures({ two_phase_job_commit: false }) }),
    );
    assert.equal(fake.job(job.id).state, 'running');
    assert.equal(
      (await api('PUT', `jobs/${job.id}`, { token: job.token, state: 'pending' }, { 'JOB-TOKEN': job.token }))
        .status,
      409,
    );
  });
});

describe('PATCH /jobs/:id/trace', () => {
  const patch = (jobId: number, token: string, body: string, range: string | undefined) =>
    callApi(fake.url, {
      method: 'PATCH',
      path: `api/v4/jobs/${jobId}/trace?debug_trace=false`,
      body,
      headers: {
        'JOB-TOKEN': token,
        'Content-Type': 'text/plain',
        ...(range === undefined ? {} : { 'Content-Range': range }),
      },
    });

  it('appends at the current size and answers 202 with Range, Job-Status and the update interval', async () => {
    const job = await takeAndStart();
    const first = await patch(job.id, job.token, 'abc', '0-2');
    assert.deepEqual(
      [
        first.status,
        first.headers.range,
        first.headers['job-status'],
        first.headers['x-gitlab-trace-update-interval'],
      ],
      [202, '0-3', 'running', '3'],
    );
    const second = await patch(job.id, job.token, 'defg', '3-6');
    assert.equal(second.headers.range, '0-7');
    assert.equal(fake.job(job.id).trace.toString(), 'abcdefg');
    assert.deepEqual(fake.violations, []);
  });

  it('answers 416 with the true size when the start does not match, storing nothing', async () => {
    const job = await takeAndStart();
    await patch(job.id, job.token, 'abc', '0-2');
    const gap = await patch(job.id, job.token, 'xyz', '5-7');
    assert.deepEqual([gap.status, gap.headers.range], [416, '0-3']);
    const overlap = await patch(job.id, job.token, 'bc', '1-2');
    assert.equal(overlap.status, 416);
    assert.equal(fake.job(job.id).trace.toString(), 'abc');
  });

  it('answers 400 without Content-Range and 403 + Job-Status when the job is not running', async () => {
    const job = fake.enqueueJob();
    await api('POST', 'jobs/request', jobRequestBody(RUNNER));
    const pending = await patch(job.id, job.token, 'x', '0-0');
    assert.deepEqual([pending.status, pending.headers['job-status']], [403, 'pending']);
    await api('PUT', `jobs/${job.id}`, { token: job.token, state: 'running' }, { 'JOB-TOKEN': job.token });
    const noRange = await patch(job.id, job.token, 'x', undefined);
    assert.deepEqual([noRange.status, noRange.json], [400, { message: '400 Missing header Content-Range' }]);
    assert.equal((await patch(job.id, 'glcbt-wrong', 'x', '0-0')).status, 403);
  });

  it('reports a patch that leaks the job token or mislabels its range', async () => {
    const job = await takeAndStart();
    const head = `token is ${job.token.slice(0, 5)}`;
    const tail = `${job.token.slice(5)}!`;
    assert.equal((await patch(job.id, job.token, head, `0-${head.length - 1}`)).status, 202);
    assert.equal(fake.violations.length, 0);
    assert.equal(
      (await patch(job.id, job.token, tail, `${head.length}-${head.length + tail.length - 1}`)).status,
      202,
    );
    const size = head.length + tail.length;
    assert.equal((await patch(job.id, job.token, 'x', `${size}-${size + 5}`)).status, 202);
    assert.equal(fake.violations.filter((v) => v.includes('unmasked')).length, 1);
    assert.equal(fake.violations.filter((v) => v.includes('Content-Range')).length, 1);
  });
});

describe('cancel', () => {
  it('gracefully cancels through canceling: patches still accepted, the final update ends as canceled', async () => {
    const job = await takeAndStart();
    fake.cancelJob(job.id, { graceful: true });
    const patched = await callApi(fake.url, {
      method: 'PATCH',
      path: `api/v4/jobs/${job.id}/trace`,
      body: 'bye',
      headers: { 'JOB-TOKEN': job.token, 'Content-Range': '0-2' },
    });
    assert.deepEqual([patched.status, patched.headers['job-status']], [202, 'canceling']);
    const keepAlive = await api(
      'PUT',
      `jobs/${job.id}`,
      { token: job.token, state: 'running' },
      { 'JOB-TOKEN': job.token },
    );
    assert.equal(keepAlive.headers['job-status'], 'canceling');
    const final = await api(
      'PUT',
      `jobs/${job.id}`,
      {
        token: job.token,
        state: 'failed',
        failure_reason: 'unknown_failure',
        output: { checksum: traceChecksum(Buffer.from('bye')), bytesize: 3 },
      },
      { 'JOB-TOKEN': job.token },
    );
    assert.deepEqual(
      [final.status, final.headers['job-status'], fake.job(job.id).state],
      [200, 'canceled', 'canceled'],
    );
  });

  it('cancels at once (403 + Job-Status: canceled) when not graceful or the runner cannot cancel gracefully', async () => {
    const job = await takeAndStart({ features: runnerFeatures({ cancel_gracefully: false }) });
    fake.cancelJob(job.id, { graceful: true });
    const patched = await callApi(fake.url, {
      method: 'PATCH',
      path: `api/v4/jobs/${job.id}/trace`,
      body: 'x',
      headers: { 'JOB-TOKEN': job.token, 'Content-Range': '0-0' },
    });
    assert.deepEqual([patched.status, patched.headers['job-status']], [403, 'canceled']);
  });

  it('removes a queued job from the queue', async () => {
    const job = fake.enqueueJob();
    fake.cancelJob(job.id);
    assert.equal(fake.job(job.id).state, 'canceled');
    assert.equal((await api('POST', 'jobs/request', jobRequestBody(RUNNER))).status, 204);
  });
});

describe('inspection', () => {
  it('waits for a job condition and times out with the current state', async () => {
    const job = fake.enqueueJob();
    const running = fake.waitForJob(job.id, (j) => j.state === 'running', 2000);
    await api(
      'POST',
      'jobs/request',
      jobRequestBody(RUNNER, { features: runnerFeatures({ two_phase_job_commit: false }) }),
    );
    assert.equal((await running).state, 'running');
    await assert.rejects(
      fake.waitForJob(job.id, (j) => j.state === 'success', 50),
      /state running/,
    );
  });

  it('logs requests without tokens', async () => {
    const job = fake.enqueueJob();
    await callApi(fake.url, {
      method: 'GET',
      path: `api/v4/jobs/${job.id}/artifacts?job_token=${job.token}`,
    });
    const entry = fake.requests.at(-1);
    assert.equal(entry?.endpoint, 'artifacts-download');
    assert.ok(!JSON.stringify(fake.requests).includes(job.token));
    assert.equal((await callApi(fake.url, { method: 'GET', path: 'api/v4/nothing' })).status, 404);
  });
});
