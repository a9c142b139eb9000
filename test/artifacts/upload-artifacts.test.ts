import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { uploadArtifacts, whenMatches } from '../../src/artifacts/upload-artifacts.js';
import type { JobArtifact, JobVariable } from '../../src/model/payload.js';
import type { HostEnvironment } from '../support/host-environment.js';
import { hostProject, jobPayload, traceCollector, writeTree } from './fixtures.js';
import { ArtifactTransportDouble } from './transport-double.js';

const ARCHIVE: JobArtifact = {
  paths: ['dist/'],
  when: 'on_success',
  expire_in: '1 week',
  artifact_type: 'archive',
  artifact_format: 'zip',
};

describe('uploadArtifacts', () => {
  let env: HostEnvironment;
  let projectDir: string;

  before(async () => {
    ({ env, projectDir } = await hostProject({
      'dist/app.js': 'console.log(1)',
      'dist/lib/util.js': 'export {}',
      'reports/junit-a.xml': '<a/>',
      'reports/sub/junit-b.xml': '<b/>',
      'gl-sast-report.json': '{"vulnerabilities":[]}',
    }));
  });
  after(() => env.close());

  async function upload(
    artifacts: JobArtifact[],
    options: { transport?: ArtifactTransportDouble; jobSucceeded?: boolean; variables?: JobVariable[] } = {},
  ) {
    const transport = options.transport ?? new ArtifactTransportDouble();
    const trace = traceCollector();
    const result = await uploadArtifacts({
      env,
      job: jobPayload({ artifacts }),
      projectDir,
      variables: [{ key: 'BUILD_NAME', value: 'widget-build' }, ...(options.variables ?? [])],
      transport,
      jobSucceeded: options.jobSucceeded ?? true,
      log: trace.log,
      signal: new AbortController().signal,
      retry: { initialDelayMs: 1, maxDelayMs: 1 },
    });
    return { result, transport, text: trace.text(), lines: trace.lines };
  }

  it('uploads the archive as <name>.zip with type, format and expiry, and logs 201 Created', async () => {
    const { result, transport, text } = await upload([{ ...ARCHIVE, name: '$BUILD_NAME' }]);
    assert.deepEqual(result, { ok: true });
    assert.equal(transport.uploads.length, 1);
    const sent = transport.uploads[0]!;
    assert.equal(sent.filename, 'widget-build.zip');
    assert.equal(sent.artifactType, 'archive');
    assert.equal(sent.artifactFormat, 'zip');
    assert.equal(sent.expireIn, '1 week');
    const zipPath = join(env.root, 'uploaded.zip');
    await writeFile(zipPath, sent.bytes);
    const names = execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(names, ['dist/', 'dist/app.js', 'dist/lib/', 'dist/lib/util.js']);
    assert.match(text, /^Uploading artifacts\.\.\.$/m);
    assert.match(
      text,
      /^Uploading artifacts as "archive" to coordinator\.\.\. 201 Created +id=4130 responseStatus=201 Created$/m,
    );
    assert.doesNotMatch(text, /secrettoken/);
  });

  it('stores without compression for ARTIFACT_COMPRESSION_LEVEL=fastest and warns about unknown levels', async () => {
    const methods = async (level: string): Promise<{ listing: string; text: string }> => {
      const { transport, text } = await upload([ARCHIVE], {
        variables: [{ key: 'ARTIFACT_COMPRESSION_LEVEL', value: level }],
      });
      const zipPath = join(env.root, `level-${level}.zip`);
      await writeFile(zipPath, transport.uploads[0]!.bytes);
      return { listing: execFileSync('zipinfo', [zipPath], { encoding: 'utf8' }), text };
    };
    assert.match((await methods('fastest')).listing, /stor .* dist\/app\.js$/m);
    const unknown = await methods('turbo');
    assert.match(unknown.listing, /defN .* dist\/app\.js$/m);
    assert.match(unknown.text, /^WARNING: compression level "turbo" is invalid, falling back to default$/m);
  });

  it('names the archive "artifacts.zip" by default', async () => {
    const { transport } = await upload([ARCHIVE]);
    assert.equal(transport.uploads[0]?.filename, 'artifacts.zip');
  });

  it('sends a gzip report as one gzip member per file, named by base name with the path as comment', async () => {
    const junit: JobArtifact = {
      name: 'junit.xml',
      paths: ['reports/**/*.xml'],
      when: 'always',
      artifact_type: 'junit',
      artifact_format: 'gzip',
    };
    const { transport } = await upload([junit]);
    const sent = transport.uploads[0]!;
    assert.equal(sent.filename, 'junit.xml.gz');
    assert.equal(gunzipSync(sent.bytes).toString(), '<a/><b/>', 'all members decompress, in path order');
    // Second member header: FNAME then FCOMMENT after the 10 fixed bytes.
    const second = sent.bytes.indexOf(Buffer.from([0x1f, 0x8b, 8, 0x18]), 10);
    const fields = sent.bytes
      .subarray(second + 10)
      .toString('latin1')
      .split('\0');
    assert.deepEqual(fields.slice(0, 2), ['junit-b.xml', 'reports/sub/junit-b.xml']);
    assert.equal(sent.bytes.readUInt32LE(4), Math.floor(new Date('2024-05-06T07:08:09Z').getTime() / 1000));
  });

  it('sends a raw report as the bytes of its single file', async () => {
    const sast: JobArtifact = {
      name: 'gl-sast-report.json',
      paths: ['gl-sast-report.json'],
      when: 'always',
      artifact_type: 'sast',
      artifact_format: 'raw',
    };
    const { transport } = await upload([sast]);
    assert.equal(transport.uploads[0]?.filename, 'gl-sast-report.json');
    assert.equal(transport.uploads[0]?.bytes.toString(), '{"vulnerabilities":[]}');
  });

  it('refuses a raw report matching more than one file', async () => {
    const raw: JobArtifact = {
      name: 'r.json',
      paths: ['reports/'],
      when: 'always',
      artifact_type: 'sast',
      artifact_format: 'raw',
    };
    const { result, transport, text } = await upload([raw]);
    assert.equal(result.ok, false);
    assert.equal(transport.uploads.length, 0);
    assert.match(text, /^FATAL: only one file can be sent as raw$/m);
  });

  it('uploads only the entries whose `when` matches the job result', async () => {
    const entries: JobArtifact[] = [
      { ...ARCHIVE, name: 'success', when: 'on_success' },
      { ...ARCHIVE, name: 'failure', when: 'on_failure' },
      { ...ARCHIVE, name: 'always', when: 'always' },
    ];
    const { transport } = await upload(entries, { jobSucceeded: false });
    assert.deepEqual(
      transport.uploads.map((sent) => sent.filename),
      ['failure.zip', 'always.zip'],
    );
    assert.equal(whenMatches('', true), true);
    assert.equal(whenMatches(undefined, false), false);
  });

  it('treats "no files" as an error line but not a failure', async () => {
    const { result, transport, text } = await upload([{ ...ARCHIVE, paths: ['missing/'] }]);
    assert.deepEqual(result, { ok: true });
    assert.equal(transport.uploads.length, 0);
    assert.match(text, /^ERROR: No files to upload$/m);
  });

  it('reports 413 as "too large" without retrying', async () => {
    const transport = new ArtifactTransportDouble();
    transport.outcomes = [{ outcome: 'too-large', message: 'file size has reached maximum size limit' }];
    const { result, text } = await upload([ARCHIVE], { transport });
    assert.deepEqual(result, { ok: false });
    assert.equal(transport.uploads.length, 1);
    assert.match(
      text,
      /^ERROR: Uploading artifacts as "archive" to coordinator\.\.\. too large archive +id=4130 responseStatus=413 Request Entity Too Large$/m,
    );
    assert.match(text, /^FATAL: too large$/m);
  });

  it('retries a failed upload with a rebuilt archive, then succeeds', async () => {
    const transport = new ArtifactTransportDouble();
    transport.outcomes = [{ outcome: 'failed', message: '500 Internal Server Error', status: 500 }];
    const { result, text } = await upload([ARCHIVE], { transport });
    assert.deepEqual(result, { ok: true });
    assert.equal(transport.uploads.length, 2);
    assert.deepEqual(transport.uploads[1]?.bytes, transport.uploads[0]?.bytes);
    assert.match(
      text,
      /^WARNING: Retrying\.\.\. +context=artifacts-uploader error=500 Internal Server Error$/m,
    );
  });

  it('gives up after three failed tries, and at once on 403', async () => {
    const failing = new ArtifactTransportDouble();
    failing.outcomes = Array.from({ length: 5 }, () => ({
      outcome: 'failed' as const,
      message: 'boom',
      status: 502,
    }));
    const first = await upload([ARCHIVE], { transport: failing });
    assert.deepEqual(first.result, { ok: false });
    assert.equal(failing.uploads.length, 3);
    assert.match(first.text, /^FATAL: boom$/m);

    const forbidden = new ArtifactTransportDouble();
    forbidden.outcomes = [{ outcome: 'failed', message: '403 Forbidden', status: 403 }];
    const second = await upload([ARCHIVE], { transport: forbidden });
    assert.equal(forbidden.uploads.length, 1);
    assert.match(second.text, /^FATAL: permission denied$/m);
  });

  it('stops the archiving command and rejects when the job is cancelled mid-upload', async () => {
    await writeTree(join(projectDir, 'big'), { 'blob.bin': randomBytes(8 * 1024 * 1024) });
    const stalling = new ArtifactTransportDouble();
    stalling.upload = async (upload) => {
      upload.body.once('readable', () => controller.abort(new Error('job cancelled')));
      await new Promise((resolve) => upload.body.once('close', resolve));
      return { outcome: 'failed', message: 'body closed' };
    };
    const controller = new AbortController();
    await assert.rejects(
      uploadArtifacts({
        env,
        job: jobPayload({ artifacts: [{ ...ARCHIVE, paths: ['big/'] }] }),
        projectDir,
        variables: [],
        transport: stalling,
        jobSucceeded: true,
        log: () => undefined,
        signal: controller.signal,
      }),
      /job cancelled/,
    );
    await sleep(100);
    assert.equal(env.running, 0, 'no tar left running');
  });
});
