import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { callApi, type RequestEvent } from '../../src/gitlab/http.js';
import { dropConnection, hang, reply, startScriptedServer } from './helpers/scripted-server.js';

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5 };

describe('callApi', () => {
  it('sends the headers gitlab-runner always sends, under /api/v4 of the configured URL', async (t) => {
    const server = await startScriptedServer([reply(200, { json: { ok: true } })]);
    t.after(() => server.close());
    await callApi(
      { url: `${server.url}gitlab/ci/`, tartVersion: '1.2.3' },
      { method: 'POST', endpoint: '/jobs/:id', params: { id: 7 }, json: { a: 1 } },
    );
    const [request] = server.requests;
    assert.equal(request?.path, '/gitlab/api/v4/jobs/7');
    assert.match(
      String(request?.headers['user-agent']),
      /^gitlab-runner \d+\.\d+\.\d+ \(tart 1\.2\.3; node v\d+[.\d]*; [a-z]+\/[a-z0-9]+\)$/,
    );
    assert.match(String(request?.headers['x-request-id']), /^[0-9a-f]{32}$/);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(request?.body.toString() ?? ''), { a: 1 });
  });

  it('retries 5xx and network errors with backoff, then returns the answer', async (t) => {
    const server = await startScriptedServer([
      reply(500),
      dropConnection,
      reply(503),
      reply(200, { body: 'fine' }),
    ]);
    t.after(() => server.close());
    const events: RequestEvent[] = [];
    const response = await callApi(
      { url: server.url, retry: fastRetry, onRequest: (event) => events.push(event) },
      { method: 'PUT', endpoint: '/jobs/:id', params: { id: 1 }, json: {} },
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'fine');
    assert.deepEqual(
      events.map((event) => [event.endpoint, event.method, event.status]),
      [
        ['/jobs/:id', 'PUT', 500],
        ['/jobs/:id', 'PUT', 0],
        ['/jobs/:id', 'PUT', 503],
        ['/jobs/:id', 'PUT', 200],
      ],
    );
    assert.ok(events.every((event) => event.durationMs >= 0));
  });

  it('never retries other 4xx answers', async (t) => {
    const server = await startScriptedServer([reply(400), reply(200)]);
    t.after(() => server.close());
    const response = await callApi({ url: server.url, retry: fastRetry }, { method: 'GET', endpoint: '/x' });
    assert.equal(response.status, 400);
    assert.equal(server.requests.length, 1);
  });

  it('retries 429 after the Retry-After the server asks for', async (t) => {
    const server = await startScriptedServer([reply(429, { headers: { 'Retry-After': '1' } }), reply(204)]);
    t.after(() => server.close());
    const started = Date.now();
    const response = await callApi({ url: server.url }, { method: 'GET', endpoint: '/x' });
    assert.equal(response.status, 204);
    assert.ok(Date.now() - started >= 950, 'waited about a second');
  });

  it('gives up after the bounded number of attempts and returns the last answer', async (t) => {
    const server = await startScriptedServer([reply(502)]);
    t.after(() => server.close());
    const response = await callApi(
      { url: server.url, retry: { ...fastRetry, maxAttempts: 3 } },
      { method: 'GET', endpoint: '/x' },
    );
    assert.equal(response.status, 502);
    assert.equal(server.requests.length, 3);
  });

  it('fails with GITLAB_NETWORK_ERROR when nothing listens, after retrying', async () => {
    const server = await startScriptedServer([reply(200)]);
    const url = server.url;
    await server.close();
    await assert.rejects(
      callApi({ url, retry: { ...fastRetry, maxAttempts: 2 } }, { method: 'GET', endpoint: '/x' }),
      (error: unknown) => hasCode(error, 'GITLAB_NETWORK_ERROR'),
    );
  });

  it('times out waiting for response headers with GITLAB_TIMEOUT', async (t) => {
    const server = await startScriptedServer([hang]);
    t.after(() => server.close());
    await assert.rejects(
      callApi(
        { url: server.url, timeouts: { responseHeaderMs: 100 }, retry: { maxAttempts: 1 } },
        { method: 'GET', endpoint: '/x' },
      ),
      (error: unknown) => hasCode(error, 'GITLAB_TIMEOUT'),
    );
  });

  it('stops at once with ABORTED when the caller aborts', async (t) => {
    const server = await startScriptedServer([hang]);
    t.after(() => server.close());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(
      callApi(
        { url: server.url },
        { method: 'POST', endpoint: '/jobs/request', json: {}, signal: controller.signal },
      ),
      (error: unknown) => hasCode(error, 'ABORTED'),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('sends nothing when the signal is already aborted', async (t) => {
    const server = await startScriptedServer([reply(200)]);
    t.after(() => server.close());
    await assert.rejects(
      callApi({ url: server.url }, { method: 'GET', endpoint: '/x', signal: AbortSignal.abort() }),
      (error: unknown) => hasCode(error, 'ABORTED'),
    );
    assert.equal(server.requests.length, 0);
  });

  it('rejects URLs that are not http or https', async () => {
    await assert.rejects(
      callApi({ url: 'ftp://gitlab.example.com' }, { method: 'GET', endpoint: '/x' }),
      (error: unknown) => hasCode(error, 'GITLAB_BAD_URL'),
    );
  });

  it('trusts the server certificate given as tls-ca-file, and only then', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tart-tls-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tlsServer = https.createServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    });
    const server = await startScriptedServer([reply(200, { body: 'secure' })], tlsServer);
    t.after(() => server.close());
    const response = await callApi(
      { url: server.url, tls: { caFile: join(dir, 'cert.pem') } },
      { method: 'GET', endpoint: '/x' },
    );
    assert.equal(response.body.toString(), 'secure');
    await assert.rejects(
      callApi({ url: server.url, retry: { maxAttempts: 1 } }, { method: 'GET', endpoint: '/x' }),
      (error: unknown) => hasCode(error, 'GITLAB_NETWORK_ERROR'),
    );
  });
});
