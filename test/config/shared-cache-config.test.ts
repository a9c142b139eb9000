// `[runners.cache]` with Type = "s3": what loads silently, what is named in a notice, and the
// settings a job's cache store gets from it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigWithWarnings } from '../../src/config/load.js';
import { sharedCacheOf } from '../../src/daemon/runner-entry.js';

const RUNNER =
  '[[runners]]\nname = "r"\nurl = "https://gitlab.example.com"\ntoken = "glrt-abcdefghijklm"\nexecutor = "shell"\n';
const DEFAULTS = { imageDir: '/images/current', hostname: 'h' };
const load = (cache: string) =>
  parseConfigWithWarnings(`${RUNNER}[runners.cache]\n${cache}`, 'config.toml', DEFAULTS);

test("an S3 cache with a bucket loads without a notice and becomes the runner's shared cache", () => {
  const { config, warnings } = load(
    'Type = "s3"\nShared = true\nPath = "ci"\n[runners.cache.s3]\nServerAddress = "minio:9000"\nAccessKey = "AK"\nSecretKey = "SK"\nBucketName = "b"\nInsecure = true\n',
  );
  assert.deepEqual(warnings, []);
  const shared = sharedCacheOf(config.runners[0]?.cache);
  assert.equal(shared?.path, 'ci');
  assert.equal(shared?.shared, true);
  assert.deepEqual(
    { ...shared?.s3 },
    {
      serverAddress: 'minio:9000',
      bucketName: 'b',
      bucketLocation: undefined,
      insecure: true,
      authenticationType: 'access-key',
      accessKey: 'AK',
      secretKey: 'SK',
      sessionToken: undefined,
      serverSideEncryption: undefined,
      serverSideEncryptionKeyId: undefined,
      pathStyle: undefined,
      dualStack: undefined,
    },
  );
});

test('AuthenticationType defaults as gitlab-runner: iam unless ServerAddress, AccessKey and SecretKey are all set', () => {
  const noServer = load(
    'Type = "s3"\n[runners.cache.s3]\nAccessKey = "AK"\nSecretKey = "SK"\nBucketName = "b"\n',
  );
  assert.equal(sharedCacheOf(noServer.config.runners[0]?.cache)?.s3.authenticationType, 'iam');
  const explicit = load('Type = "s3"\n[runners.cache.s3]\nAuthenticationType = "IAM"\nBucketName = "b"\n');
  assert.equal(sharedCacheOf(explicit.config.runners[0]?.cache)?.s3.authenticationType, 'iam');
});

test('an S3 cache without BucketName, or with an unknown ServerSideEncryption, is named in a notice', () => {
  const noBucket = load('Type = "s3"\n[runners.cache.s3]\nServerAddress = "minio:9000"\n');
  assert.deepEqual(noBucket.warnings, [
    'runners[0].cache.s3: BucketName is not set; the local cache is used',
  ]);
  assert.equal(sharedCacheOf(noBucket.config.runners[0]?.cache), undefined);
  const sse = load('Type = "s3"\n[runners.cache.s3]\nBucketName = "b"\nServerSideEncryption = "rot13"\n');
  assert.deepEqual(sse.warnings, [
    'runners[0].cache.s3: unknown ServerSideEncryption value: rot13; archives are uploaded without it',
  ]);
});

test('no Type means the local cache only', () => {
  const { config, warnings } = load(
    'MaxUploadedArchiveSize = 0\n[runners.cache.s3]\n[runners.cache.gcs]\n[runners.cache.azure]\n',
  );
  assert.deepEqual(warnings, []);
  assert.equal(sharedCacheOf(config.runners[0]?.cache), undefined);
});
