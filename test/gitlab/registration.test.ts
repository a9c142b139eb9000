import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode, TartError } from '../../src/errors.js';
import {
  isAuthenticationToken,
  registerRunner,
  resetRunnerToken,
  unregisterRunner,
  unregisterRunnerManager,
  verifyRunner,
} from '../../src/gitlab/registration.js';
import { buildRunnerInfo } from '../../src/gitlab/runner-info.js';
import { json, reply, startScriptedServer } from './helpers/scripted-server.js';

const retry = { maxAttempts: 1 };

describe('registration', () => {
  it('registers with POST /runners and the exact body gitlab-runner sends', async (t) => {
    const server = await startScriptedServer([
      reply(201, { json: { id: 12, token: 't3_abc', token_expires_at: '2026-12-01T10:00:00.000Z' } }),
    ]);
    t.after(() => server.close());
    const result = await registerRunner({
      url: server.url,
      registrationToken: 'GR1348941reg',
      description: 'tart-1',
      tags: ['linux', ' vm '],
      runUntagged: false,
      accessLevel: 'ref_protected',
      maximumTimeout: 3600,
      systemId: 's_000000000000',
      tartVersion: '0.1.0',
    });
    assert.deepEqual(result, { id: 12, token: 't3_abc', tokenExpiresAt: '2026-12-01T10:00:00.000Z' });
    const [request] = server.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/api/v4/runners');
    const body = json(request!);
    const info = body.info as { features: Record<string, boolean>; executor: string };
    delete body.info;
    assert.deepEqual(body, {
      token: 'GR1348941reg',
      description: 'tart-1',
      tag_list: 'linux,vm',
      run_untagged: false,
      locked: true,
      access_level: 'ref_protected',
      maximum_timeout: 3600,
      paused: false,
    });
    assert.equal(info.executor, '');
    assert.equal(info.features.trace_checksum, true);
    assert.equal(info.features.artifacts, false, 'only network features at registration');
  });

  it('forces run_untagged when there are no tags and reads a null expiry as none', async (t) => {
    const server = await startScriptedServer([
      reply(201, { json: { id: 3, token: 'tok', token_expires_at: null } }),
    ]);
    t.after(() => server.close());
    const result = await registerRunner({
      url: server.url,
      registrationToken: 'r',
      description: '',
      runUntagged: false,
      systemId: 's_000000000000',
    });
    assert.deepEqual(result, { id: 3, token: 'tok' });
    const body = json(server.requests[0]!);
    assert.equal(body.run_untagged, true);
    assert.equal('tag_list' in body, false);
    assert.equal('description' in body, false);
  });

  it('maps 403 to RUNNER_FORBIDDEN and 410 to REGISTRATION_DISABLED, without the token in the message', async (t) => {
    const server = await startScriptedServer([
      reply(403, { json: { message: '403 Forbidden secret-reg-token' } }),
      reply(410, { json: { message: '410 Gone - registration disabled' } }),
    ]);
    t.after(() => server.close());
    const options = {
      url: server.url,
      registrationToken: 'secret-reg-token',
      description: 'x',
      systemId: 's_000000000000',
      retry,
    };
    await assert.rejects(registerRunner(options), (error: unknown) => {
      assert.ok(hasCode(error, 'RUNNER_FORBIDDEN'));
      assert.doesNotMatch(error.message, /secret-reg-token/);
      return true;
    });
    await assert.rejects(registerRunner(options), (error: unknown) =>
      hasCode(error, 'REGISTRATION_DISABLED'),
    );
  });

  it('verifies with POST /runners/verify sending info, token and system_id', async (t) => {
    const server = await startScriptedServer([
      reply(200, { json: { id: 5, token: 'glrt-t1_x', token_expires_at: null } }),
    ]);
    t.after(() => server.close());
    const info = buildRunnerInfo({ tartVersion: '0.1.0', executor: 'tart-vm' });
    const result = await verifyRunner({
      url: server.url,
      token: 'glrt-t1_x',
      systemId: 's_123456789abc',
      info,
    });
    assert.deepEqual(result, { id: 5, token: 'glrt-t1_x' });
    const request = server.requests[0]!;
    assert.equal(request.path, '/api/v4/runners/verify');
    assert.equal(request.headers['runner-token'], 'glrt-t1_x');
    assert.deepEqual(json(request), {
      info: JSON.parse(JSON.stringify(info)),
      token: 'glrt-t1_x',
      system_id: 's_123456789abc',
    });
  });

  it('accepts the plain-text 200 of very old GitLab and maps 403 to RUNNER_FORBIDDEN', async (t) => {
    const server = await startScriptedServer([
      reply(200, { body: '200' }),
      reply(403, { json: { message: '403 Forbidden' } }),
    ]);
    t.after(() => server.close());
    assert.deepEqual(
      await verifyRunner({ url: server.url, token: 'glrt-x', systemId: 's_000000000000' }),
      {},
    );
    await assert.rejects(
      verifyRunner({ url: server.url, token: 'glrt-x', systemId: 's_000000000000', retry }),
      (error: unknown) => {
        assert.ok(error instanceof TartError);
        assert.equal(error.code, 'RUNNER_FORBIDDEN');
        assert.equal(error.details.status, 403);
        return true;
      },
    );
  });

  it('unregisters legacy runners with DELETE /runners and new ones with DELETE /runners/managers', async (t) => {
    const server = await startScriptedServer([
      reply(204),
      reply(204),
      reply(404, { json: { message: '404 Runner manager not found' } }),
    ]);
    t.after(() => server.close());
    await unregisterRunner({ url: server.url, token: 't3_legacy' });
    await unregisterRunnerManager({ url: server.url, token: 'glrt-new', systemId: 's_aaaaaaaaaaaa' });
    await assert.rejects(
      unregisterRunnerManager({ url: server.url, token: 'glrt-new', systemId: 's_aaaaaaaaaaaa', retry }),
      (error: unknown) => hasCode(error, 'RUNNER_MANAGER_NOT_FOUND'),
    );
    assert.deepEqual(
      server.requests.map((request) => [request.method, request.path, json(request)]),
      [
        ['DELETE', '/api/v4/runners', { token: 't3_legacy' }],
        ['DELETE', '/api/v4/runners/managers', { token: 'glrt-new', system_id: 's_aaaaaaaaaaaa' }],
        ['DELETE', '/api/v4/runners/managers', { token: 'glrt-new', system_id: 's_aaaaaaaaaaaa' }],
      ],
    );
  });

  it('rotates the token with POST /runners/reset_authentication_token expecting 201', async (t) => {
    const server = await startScriptedServer([
      reply(201, { json: { token: 'glrt-new', token_expires_at: '2027-01-01T00:00:00.000Z' } }),
    ]);
    t.after(() => server.close());
    assert.deepEqual(await resetRunnerToken({ url: server.url, token: 'glrt-old' }), {
      token: 'glrt-new',
      tokenExpiresAt: '2027-01-01T00:00:00.000Z',
    });
    assert.deepEqual(json(server.requests[0]!), { token: 'glrt-old' });
  });

  it('recognises new-style authentication tokens by the glrt- prefix', () => {
    assert.equal(isAuthenticationToken('glrt-t1_abc'), true);
    assert.equal(isAuthenticationToken('t3_abc'), false);
    assert.equal(isAuthenticationToken('GR1348941abc'), false);
  });
});
