// Private registry pulls: htpasswd basic auth on a real docker-registry, credentials from
// DOCKER_AUTH_CONFIG; the password reaches skopeo only through a 0600 file that is removed after.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnCommand, type CommandRequest, type CommandRunner } from '../../src/image/spawn.js';
import { ImagePullError } from '../../src/oci/pull-errors.js';
import { findRegistryCredentials } from '../../src/oci/registry-auth.js';
import { ImageStore } from '../../src/oci/store.js';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';

const PASSWORD = 's3cret-Pa55word-never-shown';

describe('image store: private registry', () => {
  let registry: TestRegistry;
  let root: string;
  before(async () => {
    registry = await startRegistry({ users: { ci: PASSWORD } });
    root = await mkdtemp(join(tmpdir(), 'tart-store-auth-'));
    const authFile = join(root, 'push-auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`ci:${PASSWORD}`).toString('base64') } } }), { mode: 0o600 });
    pushTestImage(await testImageLayout('busybox'), registry.host, 'private/busybox', '1', authFile);
    await rm(authFile);
  });
  after(async () => {
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('pulls with DOCKER_AUTH_CONFIG; the password is on no command line and no file is left', async () => {
    const commands: CommandRequest[] = [];
    const recording: CommandRunner = (request) => {
      commands.push(request);
      return spawnCommand(request);
    };
    const dockerAuthConfig = JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`ci:${PASSWORD}`).toString('base64') } } });
    const { credentials } = await findRegistryCredentials(`${registry.host}/private/busybox:1`, { dockerAuthConfig, home: '/nonexistent' });
    assert.equal(credentials?.source, '$DOCKER_AUTH_CONFIG');
    const store = new ImageStore({ root: join(root, 'store'), run: recording });
    const lines: string[] = [];
    const image = await store.acquire({ image: `${registry.host}/private/busybox:1`, policies: ['always'], credentials, log: (line) => lines.push(line) });
    image.release();
    assert.equal(image.downloadedLayers, 3);
    const everything = JSON.stringify({ commands: commands.map((c) => [c.command, c.args, c.env]), lines });
    assert.ok(!everything.includes(PASSWORD), 'password on a command line, in the env or a log line');
    assert.ok(!everything.includes(Buffer.from(`ci:${PASSWORD}`).toString('base64')));
    assert.ok(commands.some((c) => c.args.includes('--authfile') || c.args.includes('--src-authfile')));
    assert.deepEqual(await readdir(store.layout.tmpDir), [], 'the auth file was removed');
  });

  it("pulls with the job payload's credentials[] (GitLab's registry login) when no other source has one", async () => {
    const { credentials } = await findRegistryCredentials(`${registry.host}/private/busybox:1`, {
      home: '/nonexistent',
      jobCredentials: [{ type: 'registry', url: registry.host, username: 'ci', password: PASSWORD }],
    });
    assert.equal(credentials?.source, 'job payload (GitLab Registry)');
    const store = new ImageStore({ root: join(root, 'payload-credentials') });
    const image = await store.acquire({ image: `${registry.host}/private/busybox:1`, policies: ['always'], credentials, log: () => undefined });
    image.release();
    assert.equal(image.downloadedLayers, 3);
  });

  it('without credentials the pull is denied: runner_configuration_error', async () => {
    const store = new ImageStore({ root: join(root, 'anonymous') });
    await assert.rejects(store.acquire({ image: `${registry.host}/private/busybox:1`, policies: ['always'], log: () => undefined }), (error: unknown) => {
      assert.ok(error instanceof ImagePullError, String(error));
      assert.equal(error.code, 'IMAGE_PULL_DENIED');
      assert.equal(error.reason, 'runner_configuration_error');
      return true;
    });
  });
});

// Docker Hub's flow: the registry answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,
// scope=…`; the client asks the token service with Basic credentials and retries with the token.
describe('image store: bearer-token registry (the flow Docker Hub uses)', () => {
  let registry: TestRegistry;
  let root: string;
  const auth = Buffer.from(`ci:${PASSWORD}`).toString('base64');
  before(async () => {
    registry = await startRegistry({ tokenUsers: { ci: PASSWORD } });
    root = await mkdtemp(join(tmpdir(), 'tart-store-token-'));
    const authFile = join(root, 'push-auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { [registry.host]: { auth } } }), { mode: 0o600 });
    pushTestImage(await testImageLayout('busybox'), registry.host, 'private/busybox', '1', authFile);
    await rm(authFile);
  });
  after(async () => {
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('challenges with a Bearer realm, and a pull with DOCKER_AUTH_CONFIG gets a token for the repository', async () => {
    const challenge = await fetch(`http://${registry.host}/v2/private/busybox/manifests/1`);
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="tart-test-registry",scope="repository:private\/busybox:pull"/);
    const before = registry.tokens!.requests().length;
    const dockerAuthConfig = JSON.stringify({ auths: { [registry.host]: { auth } } });
    const { credentials } = await findRegistryCredentials(`${registry.host}/private/busybox:1`, { dockerAuthConfig, home: '/nonexistent' });
    const store = new ImageStore({ root: join(root, 'store') });
    const image = await store.acquire({ image: `${registry.host}/private/busybox:1`, policies: ['always'], credentials, log: () => undefined });
    image.release();
    assert.equal(image.downloadedLayers, 3);
    const asked = registry.tokens!.requests().slice(before);
    assert.ok(asked.length > 0, 'a token was asked for');
    assert.ok(asked.every((request) => request.user === 'ci'), JSON.stringify(asked));
    assert.ok(asked.some((request) => request.scopes.includes('repository:private/busybox:pull')), JSON.stringify(asked));
  });

  it('without credentials the token grants nothing and the pull is denied: runner_configuration_error', async () => {
    const store = new ImageStore({ root: join(root, 'anonymous') });
    await assert.rejects(store.acquire({ image: `${registry.host}/private/busybox:1`, policies: ['always'], log: () => undefined }), (error: unknown) => {
      assert.ok(error instanceof ImagePullError, String(error));
      assert.equal(error.reason, 'runner_configuration_error');
      return true;
    });
    assert.ok(registry.tokens!.requests().some((request) => request.user === 'anonymous'), 'skopeo asked anonymously');
  });
});
