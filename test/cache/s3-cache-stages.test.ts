// restore_cache / archive_cache with the S3 store: gitlab-runner's trace lines, and a bucket that
// lacks the key or a server that cannot be reached is a warning, never a stage failure.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { archiveCaches } from '../../src/cache/archive-cache.js';
import { restoreCaches } from '../../src/cache/restore-cache.js';
import { S3CacheClient } from '../../src/cache/s3-client.js';
import { S3CacheStore } from '../../src/cache/s3-store.js';
import { LocalCacheStore } from '../../src/cache/store.js';
import type { JobCache } from '../../src/model/payload.js';
import { hostProject, jobPayload, traceCollector } from '../artifacts/fixtures.js';
import type { HostEnvironment } from '../support/host-environment.js';
import { startS3Server, type TestS3Server } from '../support/s3/s3-server.js';

const CACHE: JobCache = { key: 'deps-main', paths: ['vendor/'], policy: 'pull-push', when: 'on_success' };

describe('cache stages over S3', () => {
  let s3: TestS3Server;
  let env: HostEnvironment;
  let projectDir: string;

  before(async () => {
    s3 = await startS3Server({ accessKey: 'AKIASTAGES', secretKey: 'stages-secret-key-0123456789' });
    await s3.createBucket('cache');
  });
  after(() => s3?.close());
  beforeEach(async () => {
    ({ env, projectDir } = await hostProject({ 'vendor/lib.txt': 'vendored' }));
  });
  afterEach(() => env.close());

  function store(host: string, serverAddress = s3.address): S3CacheStore {
    return new S3CacheStore({
      local: new LocalCacheStore({ dir: join(env.root, host) }),
      client: new S3CacheClient({
        serverAddress,
        bucketName: 'cache',
        insecure: true,
        authenticationType: 'access-key',
        accessKey: s3.accessKey,
        secretKey: s3.secretKey,
      }),
      shared: true,
      shortToken: 'abcdefghi',
      maxUploadedArchiveSize: 0,
    });
  }

  async function archive(cacheStore: S3CacheStore): Promise<string> {
    const trace = traceCollector();
    await archiveCaches({
      env,
      job: jobPayload({ cache: [CACHE] }),
      projectDir,
      variables: [],
      store: cacheStore,
      jobSucceeded: true,
      log: trace.log,
      signal: new AbortController().signal,
    });
    return trace.text();
  }

  async function restore(cacheStore: S3CacheStore, cache: JobCache = CACHE): Promise<string> {
    const trace = traceCollector();
    await restoreCaches({
      env,
      job: jobPayload({ cache: [cache] }),
      projectDir,
      variables: [],
      store: cacheStore,
      log: trace.log,
      signal: new AbortController().signal,
    });
    return trace.text();
  }

  it("archives on one host, restores on another with gitlab-runner's lines", async () => {
    const archived = await archive(store('host-a'));
    assert.match(
      archived,
      new RegExp(`^Uploading cache\\.zip to ${s3.endpoint}/cache/project/42/deps-main *$`, 'm'),
    );
    assert.match(archived, /^Created cache$/m);
    assert.doesNotMatch(archived, /No URL provided/);
    await rm(projectDir, { recursive: true, force: true });
    await mkdir(projectDir, { recursive: true });
    const restored = await restore(store('host-b'));
    assert.match(restored, /^Checking cache for deps-main\.\.\.$/m);
    assert.match(
      restored,
      new RegExp(`^Downloading cache from ${s3.endpoint}/cache/project/42/deps-main +ETag=`, 'm'),
    );
    assert.match(restored, /^Successfully extracted cache$/m);
    assert.doesNotMatch(restored, /No URL provided/);
    assert.equal(await readFile(join(projectDir, 'vendor/lib.txt'), 'utf8'), 'vendored');
  });

  it('warns "file does not exist" for a key the bucket lacks, then tries the fallback key', async () => {
    await archive(store('host-a'));
    const text = await restore(store('host-b'), { ...CACHE, key: 'feature-x', fallback_keys: ['deps-main'] });
    const order = [
      'Checking cache for feature-x...',
      'WARNING: file does not exist',
      'Failed to extract cache',
      'Checking cache for deps-main...',
      'Successfully extracted cache',
    ];
    let position = -1;
    for (const line of order) {
      const next = text.indexOf(line, position + 1);
      assert.ok(next > position, `"${line}" in order in:\n${text}`);
      position = next;
    }
  });

  it('an unreachable server is a warning on restore and on archive, and the stages go on', async () => {
    const down = store('host-c', '127.0.0.1:1');
    const restored = await restore(down);
    assert.match(restored, /^WARNING: downloading project\/42\/deps-main in bucket cache: ECONNREFUSED/m);
    assert.match(restored, /^Failed to extract cache$/m);
    const archived = await archive(down);
    assert.match(archived, /^ERROR: uploading project\/42\/deps-main in bucket cache: ECONNREFUSED/m);
    assert.match(archived, /^Failed to create cache$/m);
    assert.ok(!`${restored}${archived}`.includes(s3.secretKey));
  });
});
