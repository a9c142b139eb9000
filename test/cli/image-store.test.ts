// `tart image pull|ls|rm|prune` against a real docker-registry on 127.0.0.1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';
import { createSandbox, type CliSandbox } from './harness.js';

describe('tart image pull, ls, rm, prune', () => {
  let registry: TestRegistry;
  let sandbox: CliSandbox;
  let store: string;
  before(async () => {
    registry = await startRegistry();
    pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1.0');
    pushTestImage(await testImageLayout('busybox-entrypoint'), registry.host, 'tools/entry', '1.0');
    sandbox = await createSandbox();
    store = join(sandbox.dir, 'store');
  });
  after(async () => {
    await registry.stop();
    await sandbox.cleanup();
  });

  it('pulls, lists with sizes and last use, removes by reference and prunes', async () => {
    const pull = await sandbox.run(['image', 'pull', '--store', store, `${registry.host}/tools/busybox:1.0`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Pulling docker image .*busybox:1\.0 \.\.\./);
    assert.match(pull.stdout, /sha256:[0-9a-f]{64} .*tools\/busybox@sha256:[0-9a-f]{64} \(3 layers downloaded\)/);
    assert.equal((await sandbox.run(['image', 'pull', '--store', store, `${registry.host}/tools/entry:1.0`])).code, 0);
    const again = await sandbox.run(['image', 'pull', '--store', store, '--pull-policy', 'if-not-present', `${registry.host}/tools/busybox:1.0`]);
    assert.match(again.stdout, /\(0 layers downloaded\)/);

    const list = await sandbox.run(['image', 'ls', '--store', store]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0]!, /^REFERENCE\s+IMAGE ID\s+MANIFEST\s+SIZE\s+LAST USED$/);
    assert.match(lines[1]!, new RegExp(`^${registry.host.replace(/\./g, '\\.')}/tools/busybox:1\\.0 .* \\d+\\.\\d MiB +\\d{4}-\\d\\d-\\d\\dT`), 'most recently used first');
    assert.match(lines.at(-1)!, /^total \d+\.\d MiB on disk$/);

    const removed = await sandbox.run(['image', 'rm', '--store', store, `${registry.host}/tools/entry:1.0`]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch((await sandbox.run(['image', 'ls', '--store', store])).stdout, /tools\/entry/);
    const missing = await sandbox.run(['image', 'rm', '--store', store, `${registry.host}/tools/entry:1.0`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no image ".*tools\/entry:1\.0" in the image store/);

    const leftover = join(store, 'tmp', 'pull-killed');
    await mkdir(leftover, { recursive: true });
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(leftover, hourAgo, hourAgo);
    const pruned = await sandbox.run(['image', 'prune', '--store', store]);
    assert.match(pruned.stdout, /removed 1 unfinished pull\(s\) older than an hour/);
    assert.equal(existsSync(leftover), false);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /1 evicted, 0\.0 MiB left/);
  });
});
