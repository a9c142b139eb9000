// The S3 cache store against a real S3-compatible server (s3rver on loopback, SigV4 checked).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { S3CacheClient } from '../../src/cache/s3-client.js';
import { S3CacheStore } from '../../src/cache/s3-store.js';
import { LocalCacheStore } from '../../src/cache/store.js';
import { hasCode } from '../../src/errors.js';
import type { S3Settings } from '../../src/model/shared-cache.js';
import { startS3Server, type TestS3Server } from '../support/s3/s3-server.js';

const ACCESS_KEY = 'AKIATARTCACHETEST01';
const SECRET_KEY = 'tart/cache+secret/Key0123456789abcdefghij';
const BUCKET = 'runner-cache';

describe('S3 cache store', () => {
  let s3: TestS3Server;
  let root: string;
  let hosts = 0;

  before(async () => {
    s3 = await startS3Server({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    await s3.createBucket(BUCKET);
    root = await mkdtemp(join(tmpdir(), 'tart-s3-store-'));
  });
  after(async () => {
    await s3?.close();
    await rm(root, { recursive: true, force: true });
  });

  function settings(overrides: Partial<S3Settings> = {}): S3Settings {
    return {
      serverAddress: s3.address,
      bucketName: BUCKET,
      insecure: true,
      authenticationType: 'access-key',
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      ...overrides,
    };
  }

  // One runner host: its own local cache dir, the shared bucket.
  function host(options: { s3?: Partial<S3Settings>; max?: number; shared?: boolean; token?: string } = {}) {
    const local = new LocalCacheStore({ dir: join(root, `host-${++hosts}`) });
    const store = new S3CacheStore({
      local,
      client: new S3CacheClient(settings(options.s3)),
      path: 'ci',
      shared: options.shared ?? true,
      shortToken: options.token ?? 'abcdefghi',
      maxUploadedArchiveSize: options.max ?? 0,
    });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
    return { local, store, lines, log };
  }

  const ref = (key: string) => ({ project: 'acme/widget', projectId: 42, key });

  it('uploads from one host and downloads on another, under gitlab-runner object names', async () => {
    const one = host();
    const two = host();
    const since = s3.requests.length;
    await one.store.publish(ref('deps'), Readable.from([Buffer.from('zip bytes')]), { log: one.log });
    assert.deepEqual(one.lines, [`Uploading cache.zip to ${s3.endpoint}/${BUCKET}/ci/project/42/deps`]);
    const stored = await two.store.use(ref('deps'), { log: two.log });
    assert.ok(stored);
    assert.equal(await readFile(stored.path, 'utf8'), 'zip bytes');
    assert.equal(stored.path, two.local.archivePath(ref('deps')));
    assert.match(
      two.lines[0] ?? '',
      new RegExp(`^Downloading cache from ${s3.endpoint}/${BUCKET}/ci/project/42/deps +ETag="[0-9a-f]+"$`),
    );
    const info = await stat(stored.path);
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal((await stat(join(stored.path, '..'))).mode & 0o777, 0o700);
    const used = s3.requests.slice(since);
    assert.deepEqual(
      used.map((request) => `${request.method} ${request.path} ${request.status}`),
      [
        `PUT /${BUCKET}/ci/project/42/deps?x-id=PutObject 200`,
        `HEAD /${BUCKET}/ci/project/42/deps 200`,
        `GET /${BUCKET}/ci/project/42/deps?x-id=GetObject 200`,
      ],
    );
    for (const request of used) {
      assert.match(
        request.authorization ?? '',
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/us-east-1/s3/aws4_request`),
      );
    }
  });

  it('keeps runner-private caches apart when Shared is false', async () => {
    const one = host({ shared: false, token: 'runnerone' });
    const two = host({ shared: false, token: 'runnertwo' });
    await one.store.publish(ref('private'), Readable.from([Buffer.from('one')]));
    assert.equal(one.store.objectName(ref('private')), 'ci/runner/runnerone/project/42/private');
    await assert.rejects(two.store.use(ref('private')), (error: unknown) =>
      hasCode(error, 'CACHE_S3_OBJECT_MISSING'),
    );
  });

  it('needs no download where the local copy is as new as the object', async () => {
    const one = host();
    await one.store.publish(ref('same-host'), Readable.from([Buffer.from('v1')]));
    one.lines.length = 0;
    const stored = await one.store.use(ref('same-host'), { log: one.log });
    assert.equal(await readFile(stored?.path ?? '', 'utf8'), 'v1');
    assert.deepEqual(one.lines, ['cache.zip is up to date']);
  });

  it('reports a missing object with gitlab-runner\'s "file does not exist"', async () => {
    await assert.rejects(
      host().store.use(ref('never-pushed')),
      (error: unknown) =>
        hasCode(error, 'CACHE_S3_OBJECT_MISSING') && error.message === 'file does not exist',
    );
  });

  it("keeps an archive over MaxUploadedArchiveSize local, with gitlab-runner's message, and uploads nothing", async () => {
    const one = host({ max: 4 });
    const since = s3.requests.length;
    const stored = await one.store.publish(ref('too-big'), Readable.from([Buffer.from('123456789')]), {
      log: one.log,
    });
    assert.deepEqual(one.lines, [
      'Cache archive size (9) is too big (Limit is set to 4). Cache will be stored only locally.',
    ]);
    assert.equal(await readFile(stored.path, 'utf8'), '123456789');
    assert.equal(s3.requests.length, since);
  });

  it('is refused by the server with a wrong secret, and the error names no secret', async () => {
    const wrong = 'wrong/secret+Key0123456789abcdefghijklmn';
    const one = host({ s3: { secretKey: wrong } });
    await assert.rejects(
      one.store.publish(ref('denied'), Readable.from([Buffer.from('x')])),
      (error: unknown) => {
        assert.ok(hasCode(error, 'CACHE_S3_UPLOAD_FAILED'), String(error));
        assert.match(error.message, /SignatureDoesNotMatch \(HTTP 403\)/);
        assert.ok(!error.message.includes(wrong) && !JSON.stringify(error.details).includes(wrong));
        return true;
      },
    );
    await assert.rejects(one.store.use(ref('denied')), (error: unknown) =>
      hasCode(error, 'CACHE_S3_DOWNLOAD_FAILED'),
    );
    assert.equal(s3.requests.at(-1)?.status, 403);
  });

  it('names a bucket that does not exist', async () => {
    await assert.rejects(
      host({ s3: { bucketName: 'no-such-bucket' } }).store.use(ref('k')),
      (error: unknown) =>
        hasCode(error, 'CACHE_S3_DOWNLOAD_FAILED') &&
        /no-such-bucket: NoSuchBucket \(HTTP 404\)/.test(error.message),
    );
  });

  it('sends ServerSideEncryption on upload (S3 → AES256, KMS → aws:kms with the key id)', async () => {
    const since = s3.requests.length;
    await host({ s3: { serverSideEncryption: 'S3' } }).store.publish(
      ref('sse-s3'),
      Readable.from([Buffer.from('a')]),
    );
    const kms = host({ s3: { serverSideEncryption: 'KMS', serverSideEncryptionKeyId: 'alias/tart-cache' } });
    await kms.store.publish(ref('sse-kms'), Readable.from([Buffer.from('b')])).catch(() => undefined);
    const puts = s3.requests.slice(since).filter((request) => request.method === 'PUT');
    assert.equal(puts[0]?.headers['x-amz-server-side-encryption'], 'AES256');
    assert.equal(puts[1]?.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(puts[1]?.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/tart-cache');
  });

  it('fails fast with a stable code when the server cannot be reached', async () => {
    const closed = await closedPort();
    const started = Date.now();
    await assert.rejects(
      host({ s3: { serverAddress: `127.0.0.1:${closed}` } }).store.use(ref('k')),
      (error: unknown) => hasCode(error, 'CACHE_S3_DOWNLOAD_FAILED') && /ECONNREFUSED/.test(error.message),
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it('ends a request to a server that never answers on the abort signal', async () => {
    const silent = await silentServer();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('job canceled')), 300);
      const started = Date.now();
      await assert.rejects(
        host({ s3: { serverAddress: silent.address } }).store.use(ref('k'), { signal: controller.signal }),
        /job canceled/,
      );
      assert.ok(Date.now() - started < 2_000, `ended after ${Date.now() - started} ms`);
    } finally {
      await silent.close();
    }
  });

  it('writes no file with the secret key', async () => {
    const found: string[] = [];
    for (const dir of [root, s3.dir]) await collectFilesContaining(dir, SECRET_KEY, found);
    assert.deepEqual(found, []);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Accepts connections and never answers.
async function silentServer(): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function collectFilesContaining(dir: string, needle: string, found: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await collectFilesContaining(path, needle, found);
    else if (entry.isFile() && (await readFile(path)).includes(needle)) found.push(path);
  }
}
