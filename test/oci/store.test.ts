// The image store against a real registry (Debian's docker-registry on 127.0.0.1) and real
// skopeo, umoci and mkfs.ext4: platform choice, whiteouts, no re-download, policies, errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../src/oci/store.js';
import { ImagePullError } from '../../src/oci/pull-errors.js';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { pushTestImage, TEST_IMAGE_ENV, testImageLayout } from '../support/oci/test-images.js';

// debugfs reads files out of the ext4 image without mounting it.
// The job's root is /rootfs on the disk.
function readFromImage(image: string, path: string): string {
  return execFileSync('debugfs', ['-R', `cat /rootfs${path}`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
function listImageDir(image: string, path: string): string[] {
  const out = execFileSync('debugfs', ['-R', `ls -p /rootfs${path}`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').map((line) => line.split('/')[5]).filter((name): name is string => !!name && name !== '.' && name !== '..');
}

describe('image store (real registry)', () => {
  let registry: TestRegistry;
  let root: string;
  before(async () => {
    registry = await startRegistry();
    pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1.0');
    root = await mkdtemp(join(tmpdir(), 'tart-store-'));
  });
  after(async () => {
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('pulls the linux/amd64 entry of an index, applies whiteouts and opaque dirs, and hides lost+found', async () => {
    const store = new ImageStore({ root });
    const lines: string[] = [];
    const image = await store.acquire({ image: `${registry.host}/tools/busybox:1.0`, policies: ['always'], log: (line) => lines.push(line) });
    image.release();
    assert.equal(image.downloadedLayers, 3);
    assert.equal(readFromImage(image.rootfsPath, '/etc/tart-test-arch'), 'amd64\n');
    assert.equal(readFromImage(image.rootfsPath, '/etc/tart-test-image'), 'busybox\n');
    const top = listImageDir(image.rootfsPath, '/');
    assert.ok(top.includes('bin') && !top.includes('lost+found'), `root: ${top.join(' ')}`);
    assert.ok(execFileSync('debugfs', ['-R', 'stat /tart/busybox', image.rootfsPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('Type: regular'));
    assert.ok(!listImageDir(image.rootfsPath, '/etc').includes('hidden-by-layer2'));
    assert.deepEqual(listImageDir(image.rootfsPath, '/opt/opaque'), ['from-layer2']);
    assert.ok(image.config.env.includes(TEST_IMAGE_ENV));
    assert.match(image.entry.repoDigest, new RegExp(`^${registry.host}/tools/busybox@sha256:[0-9a-f]{64}$`));
    assert.match(image.entry.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.ok(lines.includes(`Pulling docker image ${registry.host}/tools/busybox:1.0 ...`), lines.join('\n'));
  });

  it('always re-resolves the tag but downloads no layer it already has', async () => {
    const before = (await registry.blobGets()).length;
    const store = new ImageStore({ root });
    const image = await store.acquire({ image: `${registry.host}/tools/busybox:1.0`, policies: ['always'], log: () => undefined });
    image.release();
    assert.equal(image.downloadedLayers, 0);
    assert.equal((await registry.blobGets()).length, before, 'no blob was fetched again');
  });

  it('if-not-present and never use the local copy without asking the registry', async () => {
    const store = new ImageStore({ root });
    const lines: string[] = [];
    const image = await store.acquire({ image: `${registry.host}/tools/busybox:1.0`, policies: ['never'], log: (line) => lines.push(line) });
    image.release();
    assert.ok(!lines.some((line) => line.startsWith('Pulling')));
    const again = await store.acquire({ image: `${registry.host}/tools/busybox:1.0`, policies: ['if-not-present'], log: (line) => lines.push(line) });
    again.release();
    assert.ok(lines.includes('Using locally found image version due to "if-not-present" pull policy'));
  });

  it('a missing tag is a configuration error naming the policies; never with no local image a system failure', async () => {
    const store = new ImageStore({ root });
    await assert.rejects(
      store.acquire({ image: `${registry.host}/tools/busybox:nope`, policies: ['always'], log: () => undefined }),
      (error: unknown) => {
        assert.ok(error instanceof ImagePullError);
        assert.equal(error.reason, 'runner_configuration_error');
        assert.match(error.message, /^failed to pull image ".*busybox:nope" with specified policies \[always\]: .*manifest unknown/);
        return true;
      },
    );
    await assert.rejects(store.acquire({ image: `${registry.host}/tools/other:1`, policies: ['never'], log: () => undefined }), (error: unknown) => {
      assert.ok(error instanceof ImagePullError);
      assert.equal(error.reason, 'runner_system_failure');
      return true;
    });
  });

  it('concurrent requests for one image share one pull', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'tart-store-'));
    try {
      const store = new ImageStore({ root: fresh });
      const request = { image: `${registry.host}/tools/busybox:1.0`, policies: ['always'] as const, log: () => undefined };
      const [a, b] = await Promise.all([store.acquire({ ...request, policies: [...request.policies] }), store.acquire({ ...request, policies: [...request.policies] })]);
      assert.equal(a.rootfsPath, b.rootfsPath);
      assert.equal(a.downloadedLayers + b.downloadedLayers, 3);
      a.release();
      b.release();
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('a digest reference is verified and pulled by digest', async () => {
    const store = new ImageStore({ root });
    const tagged = await store.acquire({ image: `${registry.host}/tools/busybox:1.0`, policies: ['always'], log: () => undefined });
    tagged.release();
    const digest = tagged.entry.repoDigest.split('@')[1]!;
    const pinned = await store.acquire({ image: `${registry.host}/tools/busybox@${digest}`, policies: ['always'], log: () => undefined });
    pinned.release();
    assert.equal(pinned.entry.manifestDigest, tagged.entry.manifestDigest);
  });
});
