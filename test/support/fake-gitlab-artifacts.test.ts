// Artifact upload and download on the fake GitLab follow protocol §6.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import yazl from 'yazl';
import { callApi, runningJob } from './fake-gitlab/client.js';
import {
  startFakeGitLab,
  type FakeGitLab,
  type FakeGitLabOptions,
  type FakeJob,
} from './fake-gitlab/index.js';

const RUNNER = 'glrt-artifacts';
const BOUNDARY = 'tartBoundary7MA4YWxkTrZu0gW';
let fake: FakeGitLab;

async function restart(options: FakeGitLabOptions = {}): Promise<void> {
  await fake?.close();
  fake = await startFakeGitLab(options);
  fake.addRunner({ token: RUNNER });
}
beforeEach(() => restart());
afterEach(() => fake.close());

/** A real zip archive holding one file. */
function zipOf(name: string, content: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(content, name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** A multipart body split in small chunks, as a streaming uploader sends it. */
function multipartChunks(parts: { name: string; filename?: string; data: Buffer }[]): Buffer[] {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n';
    pieces.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`,
      ),
      part.data,
      Buffer.from('\r\n'),
    );
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  const whole = Buffer.concat(pieces);
  const chunks: Buffer[] = [];
  for (let at = 0; at < whole.length; at += 1000) chunks.push(whole.subarray(at, at + 1000));
  return chunks;
}

function upload(job: FakeJob, query: string, body: Buffer[], headers: Record<string, string> = {}) {
  return callApi(fake.url, {
    method: 'POST',
    path: `api/v4/jobs/${job.id}/artifacts${query}`,
    body,
    headers: {
      'JOB-TOKEN': job.token,
      'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
      ...headers,
    },
  });
}

describe('POST /jobs/:id/artifacts', () => {
  it('stores the file part of a chunked multipart upload per artifact type', async () => {
    const job = await runningJob(fake, RUNNER);
    const archive = await zipOf('build/out.bin', randomBytes(50_000));
    const answer = await upload(
      job,
      '?artifact_format=zip&artifact_type=archive&expire_in=1+week',
      multipartChunks([{ name: 'file', filename: 'artifacts.zip', data: archive }]),
    );
    assert.equal(answer.status, 201);
    const stored = fake.job(job.id).artifacts.get('archive');
    assert.deepEqual(
      [stored?.filename, stored?.format, stored?.expireIn],
      ['artifacts.zip', 'zip', '1 week'],
    );
    assert.ok(stored?.bytes.equals(archive));
    const junit = await upload(
      job,
      '?artifact_format=gzip&artifact_type=junit',
      multipartChunks([{ name: 'file', filename: 'junit.xml.gz', data: Buffer.from('gz') }]),
    );
    assert.equal(junit.status, 201);
    assert.deepEqual([...fake.job(job.id).artifacts.keys()], ['archive', 'junit']);
    assert.deepEqual(fake.violations, []);
  });

  it('answers 400 without the file part, without type/format, or for a mismatched pair', async () => {
    const job = await runningJob(fake, RUNNER);
    const notFile = multipartChunks([{ name: 'other', filename: 'a.zip', data: Buffer.from('x') }]);
    assert.deepEqual((await upload(job, '?artifact_format=zip&artifact_type=archive', notFile)).json, {
      error: 'file is missing',
    });
    const file = () => multipartChunks([{ name: 'file', filename: 'a.zip', data: Buffer.from('x') }]);
    assert.deepEqual((await upload(job, '?artifact_format=zip', file())).json, {
      error: 'artifact_type is missing',
    });
    assert.deepEqual((await upload(job, '?artifact_type=archive', file())).json, {
      error: 'artifact_format is missing',
    });
    assert.equal((await upload(job, '?artifact_format=gzip&artifact_type=archive', file())).status, 400);
    const broken = [
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno end`),
    ];
    assert.equal((await upload(job, '?artifact_format=zip&artifact_type=archive', broken)).status, 400);
    assert.equal(fake.job(job.id).artifacts.size, 0);
  });

  it('answers 413 for a file over the configured maximum and stores nothing', async () => {
    await restart({ maxArtifactSize: 10_000 });
    const job = await runningJob(fake, RUNNER);
    const answer = await upload(
      job,
      '?artifact_format=zip&artifact_type=archive',
      multipartChunks([{ name: 'file', filename: 'big.zip', data: randomBytes(10_001) }]),
    );
    assert.equal(answer.status, 413);
    const huge = await upload(
      job,
      '?artifact_format=zip&artifact_type=archive',
      multipartChunks([{ name: 'file', filename: 'huge.zip', data: randomBytes(300_000) }]),
    );
    assert.equal(huge.status, 413, 'a body far over the limit is drained and refused');
    assert.equal(fake.job(job.id).artifacts.size, 0);
    const fits = await upload(
      job,
      '?artifact_format=zip&artifact_type=archive',
      multipartChunks([{ name: 'file', filename: 'ok.zip', data: randomBytes(10_000) }]),
    );
    assert.equal(fits.status, 201);
  });

  it('refuses uploads with a wrong token (403) or after the job finished (403 + Job-Status)', async () => {
    const job = await runningJob(fake, RUNNER);
    const body = () => multipartChunks([{ name: 'file', filename: 'a.zip', data: Buffer.from('x') }]);
    assert.equal(
      (
        await upload(job, '?artifact_format=zip&artifact_type=archive', body(), {
          'JOB-TOKEN': 'glcbt-wrong',
        })
      ).status,
      403,
    );
    fake.cancelJob(job.id, { graceful: false });
    const late = await upload(job, '?artifact_format=zip&artifact_type=archive', body());
    assert.deepEqual([late.status, late.headers['job-status']], [403, 'canceled']);
  });
});

describe('GET /jobs/:id/artifacts', () => {
  it('serves a dependency archive to a running job and lists it in the payload', async () => {
    const archive = await zipOf('dist/app.js', Buffer.from('console.log(1)'));
    const build = fake.addFinishedJob({ name: 'build', archive });
    const job = await runningJob(fake, RUNNER, { dependencies: [build.id] });
    assert.deepEqual((job.payload?.dependencies as unknown[])[0], {
      id: build.id,
      name: 'build',
      token: job.token,
      artifacts_file: { filename: 'artifacts.zip', size: archive.length },
    });
    const answer = await callApi(fake.url, {
      method: 'GET',
      path: `api/v4/jobs/${build.id}/artifacts?direct_download=true`,
      headers: { 'JOB-TOKEN': job.token },
    });
    assert.equal(answer.status, 200);
    assert.ok(answer.bytes.equals(archive));
  });

  it('answers 403 for a token that is not a running job, and 404 when there is no archive', async () => {
    const build = fake.addFinishedJob({ name: 'build', archive: Buffer.from('zip') });
    const empty = fake.addFinishedJob({ name: 'lint' });
    const job = await runningJob(fake, RUNNER);
    assert.equal(
      (
        await callApi(fake.url, {
          method: 'GET',
          path: `api/v4/jobs/${build.id}/artifacts`,
          headers: { 'JOB-TOKEN': build.token },
        })
      ).status,
      403,
    );
    assert.equal(
      (await callApi(fake.url, { method: 'GET', path: `api/v4/jobs/${build.id}/artifacts` })).status,
      403,
    );
    assert.equal(
      (
        await callApi(fake.url, {
          method: 'GET',
          path: `api/v4/jobs/${empty.id}/artifacts`,
          headers: { 'JOB-TOKEN': job.token },
        })
      ).status,
      404,
    );
  });

  it('redirects direct downloads with 302 to a path that serves the archive without a token', async () => {
    await restart({ artifactsDownloadRedirect: true });
    const archive = Buffer.from('PK-archive-bytes');
    const build = fake.addFinishedJob({ name: 'build', archive });
    const job = await runningJob(fake, RUNNER, { dependencies: [build.id] });
    const redirect = await callApi(fake.url, {
      method: 'GET',
      path: `api/v4/jobs/${build.id}/artifacts?direct_download=true`,
      headers: { 'JOB-TOKEN': job.token },
    });
    assert.equal(redirect.status, 302);
    const location = redirect.headers.location ?? '';
    assert.match(location, /^\/_object-storage\/[0-9a-f]{32}$/);
    const followed = await callApi(fake.url, {
      method: 'GET',
      path: location.slice(1),
      headers: { 'JOB-TOKEN': job.token },
    });
    assert.ok(followed.bytes.equals(archive));
    const plain = await callApi(fake.url, {
      method: 'GET',
      path: `api/v4/jobs/${build.id}/artifacts`,
      headers: { 'JOB-TOKEN': job.token },
    });
    assert.equal(plain.status, 200, 'without direct_download the archive is streamed');
  });
});
