// Acceptance (issue #13): the S3 cache across two runner hosts. Two `tart run` processes, each with
// its own config, builds, cache and temp dirs and its own runner token (each host registered as its
// own runner, as a fleet is; `Shared = true` lets them see one cache), against the strict fake GitLab
// and a real S3-compatible server on loopback (s3rver, SigV4 checked). Job A on one host pushes a
// key, job B on the other pulls it. The secret key must appear in no log, trace, argv or readable file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { S3CacheClient } from '../../src/cache/s3-client.js';
import { hasCode } from '../../src/errors.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startS3Server, type TestS3Server } from '../support/s3/s3-server.js';
import { startTart } from './tart-process.js';

const ACCESS_KEY = 'AKIATARTTWOHOSTS01';
const SECRET_KEY = 'two/hosts+Secret0123456789abcdefghijklmn';
const BUCKET = 'runner-cache';
const HOSTS = [
  { name: 'host-one', token: 'glrt-s3_host_one_token_01' },
  { name: 'host-two', token: 'glrt-s3_host_two_token_02' },
];

interface Host {
  name: string;
  token: string;
  dir: string;
  daemon: ReturnType<typeof startTart>;
}

describe('S3 cache shared by two runner hosts', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;
  let s3: TestS3Server;
  let hosts: Host[] = [];
  const argvSamples: string[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const jobIds: number[] = [];

  before(async () => {
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    repo = await createRepo({ files: { 'README.md': '# widget\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    s3 = await startS3Server({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    await s3.createBucket(BUCKET);
    for (const host of HOSTS) fake.addRunner({ token: host.token });
    hosts = await Promise.all(HOSTS.map((host) => startHost(host)));
    sampler = setInterval(() => void sampleArgv(argvSamples), 100);
  });

  after(async () => {
    clearInterval(sampler);
    for (const host of hosts) {
      if (host.daemon.process.exitCode === null) host.daemon.process.kill('SIGKILL');
      await host.daemon.exitCode;
      await rm(host.dir, { recursive: true, force: true });
    }
    await s3?.close();
    await fake?.close();
    await repo?.cleanup();
  });

  async function startHost(host: { name: string; token: string }): Promise<Host> {
    const dir = await mkdtemp(join(tmpdir(), `tart-${host.name}-`));
    await mkdir(join(dir, 'tmp'));
    const configPath = join(dir, 'config.toml');
    await writeFile(
      configPath,
      [
        'concurrent = 1',
        'check_interval = 1',
        'shutdown_timeout = 5',
        '[[runners]]',
        `  name = "${host.name}"`,
        `  url = "${fake.url}"`,
        `  token = "${host.token}"`,
        '  executor = "shell"',
        `  builds_dir = "${join(dir, 'builds')}"`,
        `  cache_dir = "${join(dir, 'cache')}"`,
        '  [runners.cache]',
        '    Type = "s3"',
        '    Path = "tart"',
        '    Shared = true',
        '    [runners.cache.s3]',
        `      ServerAddress = "${s3.address}"`,
        '      AuthenticationType = "access-key"',
        `      AccessKey = "${ACCESS_KEY}"`,
        `      SecretKey = "${SECRET_KEY}"`,
        `      BucketName = "${BUCKET}"`,
        '      Insecure = true',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // The daemon's own temp files land in its host dir, where the test looks for secrets.
    const daemon = startTart(configPath, ['run'], { TMPDIR: join(dir, 'tmp') });
    return { ...host, dir, daemon };
  }

  const CACHE = { key: 'shared-deps', paths: ['vendor/'], when: 'on_success' as const };

  it('job A on one host pushes a key; job B on the other pulls it and sees the file', async () => {
    const jobA = fake.enqueueJob({
      project: 'acme/widget',
      cache: [{ ...CACHE, policy: 'push' }],
      script: [
        'mkdir -p vendor',
        'echo "built on runner $CI_RUNNER_SHORT_TOKEN" > vendor/marker.txt',
        'sleep 1',
      ],
    });
    jobIds.push(jobA.id);
    const doneA = await fake.waitForJob(
      jobA.id,
      (j) => j.state === 'success' || j.state === 'failed',
      60_000,
    );
    const traceA = doneA.trace.toString();
    assert.equal(doneA.state, 'success', traceA);
    const pusher = hosts.find((host) => host.token === doneA.assignedTo?.runnerToken);
    assert.ok(pusher, 'job A ran on one of the two hosts');
    const objectPath = `/${BUCKET}/tart/project/${jobA.payload.job_info.project_id}/shared-deps`;
    assert.match(traceA, new RegExp(`Uploading cache\\.zip to ${s3.endpoint}${objectPath}`));
    assert.match(traceA, /Created cache/);

    // The pushing host leaves (SIGQUIT: after its jobs), so the next job can only go to the other.
    pusher.daemon.process.kill('SIGQUIT');
    assert.equal(await pusher.daemon.exitCode, 0, pusher.daemon.stderr());
    const puller = hosts.find((host) => host !== pusher);
    assert.ok(puller);

    const jobB = fake.enqueueJob({
      project: 'acme/widget',
      cache: [{ ...CACHE, policy: 'pull' }],
      script: ['echo "pulled on runner $CI_RUNNER_SHORT_TOKEN"', 'cat vendor/marker.txt', 'sleep 1'],
    });
    jobIds.push(jobB.id);
    const doneB = await fake.waitForJob(
      jobB.id,
      (j) => j.state === 'success' || j.state === 'failed',
      60_000,
    );
    const traceB = doneB.trace.toString();
    assert.equal(doneB.state, 'success', traceB);
    assert.equal(doneB.assignedTo?.runnerToken, puller.token);
    assert.match(traceB, new RegExp(`Downloading cache from ${s3.endpoint}${objectPath}`));
    assert.match(traceB, /Successfully extracted cache/);
    const shortA = pusher.token.slice(5, 14);
    assert.match(traceB, new RegExp(`^pulled on runner ${puller.token.slice(5, 14)}\\r?$`, 'm'));
    assert.match(
      traceB,
      new RegExp(`^built on runner ${shortA}\\r?$`, 'm'),
      'the file job A wrote on the other host',
    );
    assert.notEqual(shortA, puller.token.slice(5, 14));
    assert.deepEqual(fake.violations, []);

    // The object the server holds is under gitlab-runner's shared name, written by host A's PUT.
    const puts = s3.requests.filter(
      (request) => request.method === 'PUT' && request.path.startsWith(objectPath),
    );
    assert.equal(puts.length, 1);
    assert.equal(puts[0]?.status, 200);
  });

  it('every request the server saw was SigV4-signed with the configured access key', () => {
    assert.ok(s3.requests.length >= 3, `${s3.requests.length} requests`);
    for (const request of s3.requests) {
      assert.match(
        request.authorization ?? '',
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/us-east-1/s3/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`,
        ),
        `${request.method} ${request.path}`,
      );
      assert.ok((request.status ?? 0) < 300, `${request.method} ${request.path} → ${request.status}`);
    }
  });

  it('the server refuses the same request signed with a wrong secret', async () => {
    const client = new S3CacheClient({
      serverAddress: s3.address,
      bucketName: BUCKET,
      insecure: true,
      authenticationType: 'access-key',
      accessKey: ACCESS_KEY,
      secretKey: 'not/the+secret0123456789abcdefghijklmnop',
    });
    try {
      await assert.rejects(
        client.get('tart/project/1/shared-deps'),
        (error: unknown) =>
          hasCode(error, 'CACHE_S3_DOWNLOAD_FAILED') &&
          /SignatureDoesNotMatch \(HTTP 403\)/.test(error.message),
      );
    } finally {
      client.close();
    }
  });

  it('the secret key is in no daemon log, job trace, process argv or readable file', async () => {
    for (const host of hosts) {
      assert.ok(!host.daemon.stderr().includes(SECRET_KEY), `${host.name} stderr`);
      assert.ok(!host.daemon.stdout().includes(SECRET_KEY), `${host.name} stdout`);
      assert.match(host.daemon.stderr(), /\S/, 'the daemon logged something to check');
    }
    assert.equal(jobIds.length, 2);
    for (const id of jobIds)
      assert.ok(!fake.job(id).trace.toString().includes(SECRET_KEY), `job ${id} trace`);
    assert.ok(argvSamples.length > 5, `${argvSamples.length} ps samples`);
    assert.ok(
      argvSamples.some((sample) => sample.includes('sleep 1')),
      'ps saw a job running',
    );
    assert.ok(!argvSamples.some((sample) => sample.includes(SECRET_KEY)), 'no argv holds the secret');
    for (const host of hosts) {
      const holders = await filesContaining(host.dir, SECRET_KEY);
      assert.deepEqual(
        holders.map((file) => file.path),
        [join(host.dir, 'config.toml')],
        'only config.toml holds the secret',
      );
      for (const file of holders) assert.equal(file.mode & 0o077, 0, `${file.path} is private`);
    }
  });
});

const execFileAsync = promisify(execFile);

// Every process's full argv, as ps shows it to any user.
async function sampleArgv(samples: string[]): Promise<void> {
  const { stdout } = await execFileAsync('ps', ['-eww', '-o', 'args=']).catch(() => ({ stdout: '' }));
  if (stdout !== '') samples.push(stdout);
}

async function filesContaining(dir: string, needle: string): Promise<{ path: string; mode: number }[]> {
  const found: { path: string; mode: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesContaining(path, needle)));
    else if (entry.isFile() && (await readFile(path)).includes(needle))
      found.push({ path, mode: (await stat(path)).mode });
  }
  return found;
}
