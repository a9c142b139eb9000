// SLOW (boots QEMU VMs under TCG; run inside `flock /tmp/tart-vm.lock`). `image:` end to end:
// the daemon pulls test images (built from Debian packages) from a real docker-registry on
// 127.0.0.1, attaches them to the job's microVM and runs the user's stages in them, while the
// repository is still checked out by Tart's own root.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestRuntimeRoot, removeTestRuntimeRoot } from '../executor/vm/support/vm-test-env.js';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';
import { startImageDaemonEnv, type ImageDaemonEnv } from './image-daemon-env.js';

const RUNNER_TOKEN = 'glrt-image_e2e_token_0001';
const FINAL = ['success', 'failed', 'canceled'];
const PASSWORD = 'pr1vate-Registry-Pa55';
const WAIT_MS = 400_000;

describe('image: jobs in their container image inside a microVM', () => {
  let env: ImageDaemonEnv;
  let registry: TestRegistry;
  let privateRegistry: TestRegistry;

  before(async () => {
    privateRegistry = await startRegistry({ users: { ci: PASSWORD } });
    const pushDir = await createTestRuntimeRoot('job-image-push');
    try {
      const pushAuth = join(pushDir, 'push-auth.json');
      await writeFile(pushAuth, JSON.stringify({ auths: { [privateRegistry.host]: { auth: Buffer.from(`ci:${PASSWORD}`).toString('base64') } } }), { mode: 0o600 });
      pushTestImage(await testImageLayout('busybox'), privateRegistry.host, 'secret/busybox', '1', pushAuth);
      await rm(pushAuth);
    } finally {
      await removeTestRuntimeRoot(pushDir);
    }
    env = await startImageDaemonEnv({
      name: 'job-image',
      runnerToken: RUNNER_TOKEN,
      readme: '# widget in an image\n',
      push: async (target) => {
        pushTestImage(await testImageLayout('busybox'), target.host, 'tools/busybox', '1.0');
        pushTestImage(await testImageLayout('busybox-entrypoint'), target.host, 'tools/entry', '1.0');
        pushTestImage(await testImageLayout('busybox-user'), target.host, 'tools/as-user', '1.0');
        pushTestImage(await testImageLayout('python'), target.host, 'lang/python', '3');
      },
      allowedImages: [`${privateRegistry.host}/**`],
    });
    registry = env.registry;
  });

  after(async () => {
    await env?.cleanup();
    await privateRegistry?.stop();
  });

  const run = async (options: Parameters<FakeGitLab['enqueueJob']>[0]) => {
    const job = env.fake.enqueueJob({ project: 'acme/widget', ...options });
    return env.fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
  };

  it('a busybox job sees the image files and Env, has no bash, and the repository is checked out', async () => {
    const image = `${registry.host}/tools/busybox:1.0`;
    const done = await run({
      image,
      script: [
        'echo "IMAGE=$(cat /etc/tart-test-image) ARCH=$(cat /etc/tart-test-arch)"',
        'echo "GREETING=$TART_TEST_GREETING"',
        'test ! -e /bin/bash && echo NO-BASH',
        'test ! -e /lost+found && echo NO-LOST-FOUND',
        'test -f README.md && echo "REPO-OK $(pwd)"',
        'echo "SHELL-IS $(readlink /proc/$$/exe)"',
      ],
    });
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, new RegExp(`Using docker image sha256:[0-9a-f]{64} for ${escape(image)} with digest ${escape(registry.host)}/tools/busybox@sha256:[0-9a-f]{64} \\.\\.\\.`));
    assert.match(trace, /\nIMAGE=busybox ARCH=amd64\n/);
    assert.match(trace, /\nGREETING=hello-from-image\n/);
    assert.match(trace, /\nNO-BASH\n/);
    assert.match(trace, /\nNO-LOST-FOUND\n/);
    assert.match(trace, /\nREPO-OK \/builds\/acme\/widget\n/);
    assert.match(trace, /\nSHELL-IS \/bin\/busybox\n/);
  });

  it('a second job on the same image downloads no layer again', async () => {
    const before = (await registry.blobGets()).length;
    const done = await run({ image: `${registry.host}/tools/busybox:1.0`, script: ['echo again'] });
    assert.equal(done.state, 'success', done.trace.toString());
    assert.equal((await registry.blobGets()).length, before, 'no blob fetched from the registry');
    assert.doesNotMatch(done.trace.toString(), /Downloading \d+ of/);
  });

  it('the python job runs python3', async () => {
    const done = await run({ image: `${registry.host}/lang/python:3`, script: ['python3 -c "print(\'PY\', 6 * 7)"'] });
    assert.equal(done.state, 'success', done.trace.toString());
    assert.match(done.trace.toString(), /\nPY 42\n/);
  });

  it("runs the image's entrypoint before the script, and entrypoint [\"\"] clears it", async () => {
    const withEntrypoint = await run({ image: `${registry.host}/tools/entry:1.0`, script: ['echo SCRIPT-RAN'] });
    assert.equal(withEntrypoint.state, 'success', withEntrypoint.trace.toString());
    assert.match(withEntrypoint.trace.toString(), /TART TEST ENTRYPOINT RAN[\s\S]*SCRIPT-RAN/);
    const cleared = await run({ image: { name: `${registry.host}/tools/entry:1.0`, entrypoint: [''] }, script: ['echo SCRIPT-RAN'] });
    assert.equal(cleared.state, 'success', cleared.trace.toString());
    assert.doesNotMatch(cleared.trace.toString(), /TART TEST ENTRYPOINT RAN/);
    assert.match(cleared.trace.toString(), /\nSCRIPT-RAN\n/);
  });

  it("runs the user's stages as the image's USER, in a checkout that user can write", async () => {
    const done = await run({
      image: `${registry.host}/tools/as-user:1.0`,
      variables: [{ key: 'A_FILE', value: 'file content\n', public: false, masked: false, file: true }],
      script: [
        'echo "IDS uid=$(id -u) gid=$(id -g) groups=$(id -G | tr " " ",") HOME=$HOME"',
        'touch made-by-build-user && echo "OWNER $(stat -c %u:%g made-by-build-user)"',
        'echo "FILE-VAR $(cat "$A_FILE")"',
      ],
      afterScript: ['echo "AFTER uid=$(id -u)"'],
    });
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\nIDS uid=1000 gid=1000 groups=1000,50 HOME=\/home\/builder\n/);
    assert.match(trace, /\nOWNER 1000:1000\n/);
    assert.match(trace, /\nFILE-VAR file content\n/);
    assert.match(trace, /\nAFTER uid=1000\n/);
  });

  it("image:docker:user (variables expanded) overrides the image's USER; image:docker:platform other than linux/amd64 is refused before any pull", async () => {
    const done = await run({
      image: { name: `${registry.host}/tools/busybox:1.0`, executor_opts: { docker: { user: '$RUN_AS', platform: 'linux/amd64' } } },
      variables: [{ key: 'RUN_AS', value: 'nobody', public: true, masked: false }],
      script: ['echo "IDS uid=$(id -u) gid=$(id -g) HOME=$HOME"'],
    });
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\nIDS uid=65534 gid=65534 HOME=\/nonexistent\n/);

    const before = (await registry.blobGets()).length;
    const refused = await run({ image: { name: `${registry.host}/lang/python:3`, executor_opts: { docker: { platform: 'linux/arm64' } } }, script: ['echo never'] });
    const refusal = refused.trace.toString();
    assert.equal(refused.state, 'failed', refusal);
    assert.equal(refused.failureReason, 'runner_configuration_error');
    assert.match(refusal, /platform "linux\/arm64" for \S+\/lang\/python:3 is not supported: jobs run in linux\/amd64 microVMs/);
    assert.equal((await registry.blobGets()).length, before, 'nothing pulled');
  });

  it('with FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR, hands the checkout to the USER before the first user stage', async () => {
    const done = await run({
      image: `${registry.host}/tools/as-user:1.0`,
      variables: [{ key: 'FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR', value: 'true', public: true, masked: false }],
      script: ['echo "PROJECT $CI_PROJECT_DIR"', 'echo "DIR $(stat -c %u:%g:%a .)"', 'touch made-by-build-user && echo "OWNER $(stat -c %u:%g made-by-build-user)"'],
    });
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    const project = /\nPROJECT (\/builds\/\S+)\n/.exec(trace)?.[1];
    assert.ok(project, trace);
    const changes = trace.split('\n').filter((line) => line.includes('Changing ownership of files at'));
    assert.deepEqual(
      changes.map((line) => /Changing ownership of files at "[^"]+" to \d+:\d+/.exec(line)?.[0]),
      [`Changing ownership of files at "${project}" to 1000:1000`, `Changing ownership of files at "${project}.tmp" to 1000:1000`],
    );
    assert.match(trace, /\nDIR 1000:1000:755\n/);
    assert.match(trace, /\nOWNER 1000:1000\n/);
  });

  it('allowed_images refuses an image with a clear trace line', async () => {
    const done = await run({ image: 'docker.io/library/evil:1', script: ['echo never'] });
    const trace = done.trace.toString();
    assert.equal(done.state, 'failed', trace);
    assert.match(trace, /ERROR: The "docker\.io\/library\/evil:1" image is not present on list of allowed images:/);
    assert.equal(done.failureReason, 'runner_system_failure');
    assert.doesNotMatch(trace, /\nnever\n/);
  });

  it('pulls from a private registry with DOCKER_AUTH_CONFIG; the password appears nowhere', async () => {
    const auth = JSON.stringify({ auths: { [privateRegistry.host]: { auth: Buffer.from(`ci:${PASSWORD}`).toString('base64') } } });
    const done = await run({
      image: `${privateRegistry.host}/secret/busybox:1`,
      variables: [{ key: 'DOCKER_AUTH_CONFIG', value: auth, public: false, masked: false }],
      script: ['echo PRIVATE-OK'],
    });
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /Authenticating with credentials from \$DOCKER_AUTH_CONFIG/);
    assert.match(trace, /\nPRIVATE-OK\n/);
    const base64 = Buffer.from(`ci:${PASSWORD}`).toString('base64');
    for (const [where, text] of [['trace', trace], ['daemon log', env.harness.logs()]] as const) {
      assert.ok(!text.includes(PASSWORD) && !text.includes(base64), `secret in the ${where}`);
    }
    assert.ok(!(await filesContaining(env.storeDir, [PASSWORD, base64])).length, 'secret in an image-store file');
  });

  it('a pull of a missing tag fails the job as a configuration error', async () => {
    const done = await run({ image: `${registry.host}/tools/busybox:missing`, script: ['echo never'] });
    const trace = done.trace.toString();
    assert.equal(done.state, 'failed', trace);
    assert.equal(done.failureReason, 'runner_configuration_error');
    assert.match(trace, /failed to pull image ".*busybox:missing" with specified policies \[always\]: .*manifest unknown/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await stat(path)).size > 1 << 20) continue;
    const text = await readFile(path, 'latin1');
    if (needles.some((needle) => text.includes(needle))) found.push(path);
  }
  return found;
}
