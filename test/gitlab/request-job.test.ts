import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { requestJob, TART_FEATURES } from '../../src/gitlab/request-job.js';
import { buildRunnerInfo } from '../../src/gitlab/runner-info.js';
import { hang, json, reply, startScriptedServer } from './helpers/scripted-server.js';

const info = buildRunnerInfo({ tartVersion: '0.1.0', executor: 'tart' });
const base = {
  token: 'glrt-runner',
  systemId: 's_0123456789ab',
  info,
  signal: new AbortController().signal,
  retry: { maxAttempts: 1 },
};

describe('requestJob', () => {
  it('returns the decoded job and its bytes on 201', async (t) => {
    const server = await startScriptedServer([reply(201, { json: { id: 9, token: 'job' } })]);
    t.after(() => server.close());
    const result = await requestJob({ ...base, url: server.url });
    assert.equal(result.kind, 'job');
    assert.deepEqual(result.kind === 'job' && result.raw, { id: 9, token: 'job' });
    assert.equal(result.kind === 'job' && result.body.toString(), '{"id":9,"token":"job"}');
    const request = server.requests[0]!;
    assert.equal(request.path, '/api/v4/jobs/request');
    assert.equal(request.headers['runner-token'], 'glrt-runner');
    assert.deepEqual(Object.keys(json(request)), ['info', 'token', 'system_id']);
  });

  it('echoes X-GitLab-Last-Update back as last_update (long polling)', async (t) => {
    const server = await startScriptedServer([
      reply(204, { headers: { 'X-GitLab-Last-Update': 'abc123' } }),
      reply(204),
    ]);
    t.after(() => server.close());
    const first = await requestJob({ ...base, url: server.url });
    assert.deepEqual(first, { kind: 'none', lastUpdate: 'abc123' });
    const second = await requestJob({
      ...base,
      url: server.url,
      lastUpdate: first.kind === 'none' ? first.lastUpdate : undefined,
    });
    assert.deepEqual(second, { kind: 'none' }, 'Workhorse 204s carry no header');
    assert.equal(json(server.requests[1]!).last_update, 'abc123');
  });

  it('treats 409 (another runner won the job) as no job', async (t) => {
    const server = await startScriptedServer([reply(409, { json: { message: '409 Conflict' } })]);
    t.after(() => server.close());
    assert.deepEqual(await requestJob({ ...base, url: server.url }), { kind: 'none' });
  });

  it('fails with RUNNER_FORBIDDEN on 403 and GITLAB_BAD_RESPONSE on a 201 that is not JSON', async (t) => {
    const server = await startScriptedServer([
      reply(403, { json: { message: '403 Forbidden' } }),
      reply(201, { body: '{"id":1}', headers: { 'Content-Type': 'text/html' } }),
    ]);
    t.after(() => server.close());
    await assert.rejects(requestJob({ ...base, url: server.url }), (error: unknown) =>
      hasCode(error, 'RUNNER_FORBIDDEN'),
    );
    await assert.rejects(requestJob({ ...base, url: server.url }), (error: unknown) =>
      hasCode(error, 'GITLAB_BAD_RESPONSE'),
    );
  });

  it('waits through a long poll and stops promptly with ABORTED when the signal fires', async (t) => {
    const server = await startScriptedServer([hang]);
    t.after(() => server.close());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    await assert.rejects(
      requestJob({ ...base, url: server.url, signal: controller.signal }),
      (error: unknown) => hasCode(error, 'ABORTED'),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `aborted after ${elapsed} ms`);
  });

  it('advertises every feature flag as a boolean, and only what Tart implements', () => {
    assert.ok(Object.values(TART_FEATURES).every((value) => typeof value === 'boolean'));
    assert.equal(TART_FEATURES.image, false);
    assert.equal(TART_FEATURES.services, false);
    assert.equal(TART_FEATURES.vault_secrets, false);
    assert.equal(TART_FEATURES.cancel_gracefully, true);
    assert.equal(TART_FEATURES.two_phase_job_commit, true);
    assert.deepEqual(info.features, { ...TART_FEATURES });
  });

  it('the VM executors declare image and the service features (both run in the job VM), the shell executor does not', () => {
    const vm = buildRunnerInfo({ tartVersion: '0.1.0', executor: 'qemu' }).features;
    const firecracker = buildRunnerInfo({ tartVersion: '0.1.0', executor: 'firecracker' }).features;
    const shell = buildRunnerInfo({ tartVersion: '0.1.0', executor: 'shell' }).features;
    for (const name of ['image', 'services', 'service_variables', 'service_multiple_aliases', 'image_executor_opts', 'service_executor_opts']) {
      assert.equal(vm[name], true, name);
      assert.equal(firecracker[name], true, name);
      assert.equal(shell[name], false, name);
    }
  });
});
