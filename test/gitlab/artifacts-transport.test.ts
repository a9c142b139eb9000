import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { GitLabArtifactTransport } from '../../src/gitlab/artifacts-transport.js';
import { multipartFile } from './helpers/multipart-file.js';
import { reply, startScriptedServer } from './helpers/scripted-server.js';

const rules = { delayMs: 1 };
const jobToken = 'glcbt-artifact-token';

// A one-shot stream that produces the archive slowly, like a zip being built.
function archiveStream(content: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < content.length; offset += 64 * 1024) {
        yield content.subarray(offset, offset + 64 * 1024);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })(),
  );
}

function upload(content: Buffer) {
  return {
    jobId: 88,
    jobToken,
    body: archiveStream(content),
    filename: 'widget-build.zip',
    artifactType: 'archive',
    artifactFormat: 'zip',
    expireIn: '1 week',
  };
}

describe('GitLabArtifactTransport.upload', () => {
  it('streams one multipart part named file, chunked, with the payload’s query parameters', async (t) => {
    const server = await startScriptedServer([reply(201, { body: '201' })]);
    t.after(() => server.close());
    const spoolDir = mkdtempSync(join(tmpdir(), 'tart-spool-test-'));
    t.after(() => rmSync(spoolDir, { recursive: true, force: true }));
    const content = randomBytes(700_000);
    const transport = new GitLabArtifactTransport({ url: server.url, retryRules: rules, tmpDir: spoolDir });
    assert.deepEqual(await transport.upload(upload(content)), { outcome: 'uploaded' });
    const request = server.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/api/v4/jobs/88/artifacts');
    assert.deepEqual(Object.fromEntries(request.query), {
      artifact_format: 'zip',
      artifact_type: 'archive',
      expire_in: '1 week',
    });
    assert.equal(request.headers['job-token'], jobToken);
    assert.equal(request.headers['transfer-encoding'], 'chunked');
    assert.equal(request.headers['content-length'], undefined);
    const part = multipartFile(request);
    assert.equal(part.filename, 'widget-build.zip');
    assert.ok(part.content.equals(content), 'archive bytes intact');
    assert.deepEqual(readdirSync(spoolDir), [], 'the retry spool is removed');
  });

  it('reports 413 as too-large without retrying, and 403 as failed without retrying', async (t) => {
    const server = await startScriptedServer([
      reply(413, { json: { message: '413 Request Entity Too Large' } }),
      reply(403, { json: { message: '403 Forbidden' } }),
    ]);
    t.after(() => server.close());
    const transport = new GitLabArtifactTransport({ url: server.url, retryRules: rules });
    assert.deepEqual(await transport.upload(upload(randomBytes(1000))), {
      outcome: 'too-large',
      message: '413 Request Entity Too Large',
    });
    const forbidden = await transport.upload(upload(randomBytes(1000)));
    assert.equal(forbidden.outcome, 'failed');
    assert.equal(forbidden.outcome === 'failed' && forbidden.status, 403);
    assert.equal(server.requests.length, 2);
  });

  it('tries once: a 500 is reported, the retries are the upload stage’s (test/artifacts/upload-retries)', async (t) => {
    const server = await startScriptedServer([reply(500, { json: { message: 'boom' } })]);
    t.after(() => server.close());
    const result = await new GitLabArtifactTransport({ url: server.url, retryRules: rules }).upload(
      upload(randomBytes(10)),
    );
    assert.deepEqual(result, { outcome: 'failed', message: 'HTTP 500: boom', status: 500 });
    assert.equal(server.requests.length, 1);
  });

  it('reports a failed archive stream as failed instead of retrying it', async (t) => {
    const server = await startScriptedServer([reply(500), reply(201)]);
    t.after(() => server.close());
    const broken = Readable.from(
      (async function* () {
        yield Buffer.from('partial zip');
        throw new Error('zip writer crashed');
      })(),
    );
    const result = await new GitLabArtifactTransport({ url: server.url, retryRules: rules }).upload({
      ...upload(Buffer.alloc(0)),
      body: broken,
    });
    assert.equal(result.outcome, 'failed');
    assert.match(result.outcome === 'failed' ? result.message : '', /zip writer crashed/);
  });

  it('refuses a 307 to another origin: the job token never leaves GitLab', async (t) => {
    const target = await startScriptedServer([reply(201)]);
    t.after(() => target.close());
    const origin = await startScriptedServer([
      reply(307, { headers: { Location: `${target.url}api/v4/jobs/88/artifacts` } }),
    ]);
    t.after(() => origin.close());
    const result = await new GitLabArtifactTransport({ url: origin.url, retryRules: rules }).upload(
      upload(randomBytes(5000)),
    );
    assert.equal(result.outcome, 'failed');
    assert.equal(result.outcome === 'failed' && result.status, 307);
    assert.match(
      result.outcome === 'failed' ? result.message : '',
      /redirecting to http:\/\/127\.0\.0\.1:\d+, another origin than http:\/\/127\.0\.0\.1:\d+; the job token is never sent there/,
    );
    assert.equal(target.requests.length, 0, 'nothing, and no token, went to the redirect target');
  });

  it('follows a 307 that stays on GitLab’s origin, resending the body', async (t) => {
    const server = await startScriptedServer([
      reply(307, { headers: { Location: '/api/v4/jobs/88/artifacts?moved=1' } }),
      reply(201),
    ]);
    t.after(() => server.close());
    const content = randomBytes(5000);
    const result = await new GitLabArtifactTransport({ url: server.url, retryRules: rules }).upload(
      upload(content),
    );
    assert.deepEqual(result, { outcome: 'uploaded' });
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[1]?.path, '/api/v4/jobs/88/artifacts');
    assert.equal(server.requests[1]?.headers['job-token'], jobToken);
    assert.ok(multipartFile(server.requests[1]!).content.equals(content));
  });
});

describe('GitLabArtifactTransport.download', () => {
  const dependency = {
    id: 41,
    name: 'build',
    token: jobToken,
    artifacts_file: { filename: 'artifacts.zip', size: 3 },
  };

  it('streams the archive, asking for a direct download with the job token', async (t) => {
    const content = randomBytes(200_000);
    const server = await startScriptedServer([reply(200, { body: content })]);
    t.after(() => server.close());
    const stream = await new GitLabArtifactTransport({ url: server.url, retryRules: rules }).download({
      dependency,
    });
    assert.ok((await readAll(stream)).equals(content));
    const request = server.requests[0]!;
    assert.equal(request.path, '/api/v4/jobs/41/artifacts');
    assert.equal(request.query.get('direct_download'), 'true');
    assert.equal(request.headers['job-token'], jobToken);
  });

  it('follows a 302 to object storage without sending the job token there', async (t) => {
    const storage = await startScriptedServer([reply(200, { body: 'zip-bytes' })]);
    t.after(() => storage.close());
    const gitlab = await startScriptedServer([
      reply(302, { headers: { Location: `${storage.url}bucket/obj?X-Amz-Signature=abc` } }),
    ]);
    t.after(() => gitlab.close());
    const stream = await new GitLabArtifactTransport({ url: gitlab.url, retryRules: rules }).download({
      dependency,
    });
    assert.equal((await readAll(stream)).toString(), 'zip-bytes');
    assert.equal(storage.requests[0]?.path, '/bucket/obj');
    assert.equal(storage.requests[0]?.query.get('X-Amz-Signature'), 'abc');
    assert.equal(storage.requests[0]?.headers['job-token'], undefined);
  });

  it('retries server errors without direct_download, and never retries 404 or 403', async (t) => {
    const server = await startScriptedServer([
      reply(500),
      reply(200, { body: 'ok' }),
      reply(404),
      reply(403),
    ]);
    t.after(() => server.close());
    const transport = new GitLabArtifactTransport({ url: server.url, retryRules: rules });
    assert.equal((await readAll(await transport.download({ dependency }))).toString(), 'ok');
    assert.equal(server.requests[1]?.query.get('direct_download'), null);
    await assert.rejects(transport.download({ dependency }), (error: unknown) =>
      hasCode(error, 'ARTIFACT_NOT_FOUND'),
    );
    await assert.rejects(transport.download({ dependency }), (error: unknown) =>
      hasCode(error, 'ARTIFACT_FORBIDDEN'),
    );
    assert.equal(server.requests.length, 4);
  });
});
