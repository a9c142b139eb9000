// The one retry layer around artifact uploads, end to end: the upload stage with the real GitLab
// transport against a scripted server. gitlab-runner's artifacts-uploader makes at most 3 attempts,
// 6 while GitLab answers 503, and a cancel during a wait ends the stage at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uploadArtifacts } from '../../src/artifacts/upload-artifacts.js';
import type { RetryPolicy } from '../../src/gitlab/retry-policy.js';
import { GitLabArtifactTransport } from '../../src/gitlab/artifacts-transport.js';
import type { JobArtifact } from '../../src/model/payload.js';
import { multipartFile } from '../gitlab/helpers/multipart-file.js';
import { dropConnection, reply, startScriptedServer } from '../gitlab/helpers/scripted-server.js';
import type { HostEnvironment } from '../support/host-environment.js';
import { hostProject, jobPayload, traceCollector } from './fixtures.js';

const ARCHIVE: JobArtifact = {
  paths: ['dist/'],
  when: 'on_success',
  expire_in: '1 week',
  artifact_type: 'archive',
  artifact_format: 'zip',
};
const SHORT_WAITS: Partial<RetryPolicy> = { initialDelayMs: 1, maxDelayMs: 1 };

describe('artifact upload retries (stage + GitLab transport)', () => {
  let env: HostEnvironment;
  let projectDir: string;

  before(async () => {
    ({ env, projectDir } = await hostProject({ 'dist/app.js': 'console.log(1)'.repeat(20_000) }));
  });
  after(() => env.close());

  async function upload(url: string, options: { retry?: Partial<RetryPolicy>; signal?: AbortSignal } = {}) {
    const trace = traceCollector();
    const result = await uploadArtifacts({
      env,
      job: jobPayload({ artifacts: [ARCHIVE] }),
      projectDir,
      variables: [],
      transport: new GitLabArtifactTransport({ url }),
      jobSucceeded: true,
      log: trace.log,
      signal: options.signal ?? new AbortController().signal,
      retry: options.retry ?? SHORT_WAITS,
    });
    return { result, text: trace.text() };
  }

  it('retries 503s and a dropped connection, resending the identical archive each time', async (t) => {
    const server = await startScriptedServer([reply(503), dropConnection, reply(503), reply(201)]);
    t.after(() => server.close());
    const { result } = await upload(server.url);
    assert.deepEqual(result, { ok: true });
    assert.equal(server.requests.length, 4);
    const first = multipartFile(server.requests[0]!).content;
    for (const request of server.requests) assert.ok(multipartFile(request).content.equals(first));
  });

  it('gives up after three attempts against a server that always answers 500, and fails the stage', async (t) => {
    const server = await startScriptedServer([reply(500, { json: { message: 'boom' } })]);
    t.after(() => server.close());
    const { result, text } = await upload(server.url);
    assert.deepEqual(result, { ok: false });
    assert.equal(server.requests.length, 3);
    assert.match(text, /^FATAL: HTTP 500: boom$/m);
  });

  it('makes at most six attempts while GitLab answers 503', async (t) => {
    const server = await startScriptedServer([reply(503)]);
    t.after(() => server.close());
    const { result } = await upload(server.url);
    assert.deepEqual(result, { ok: false });
    assert.equal(server.requests.length, 6);
  });

  it('ends within 2 s when the job is cancelled during gitlab-runner’s retry wait', async (t) => {
    const server = await startScriptedServer([reply(500)]);
    t.after(() => server.close());
    const controller = new AbortController();
    // gitlab-runner's own waits (1 s, then 2 s): cancel during the second one.
    const started = Date.now();
    const pending = upload(server.url, { retry: {}, signal: controller.signal });
    const cancelled = (async () => {
      while (server.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort(new Error('job cancelled'));
      return Date.now();
    })();
    await assert.rejects(pending);
    const ended = Date.now();
    assert.ok(ended - (await cancelled) < 2000, `ended ${ended - (await cancelled)} ms after the cancel`);
    assert.equal(server.requests.length, 2, 'no attempt after the cancel');
    assert.ok(ended - started < 5000);
  });
});
