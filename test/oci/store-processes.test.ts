// Two Tart processes on one image store (a daemon and `tart exec` or `tart image prune`), with a
// real registry and skopeo: one pull of an image at a time, the other process waits and downloads
// nothing; an image a job of another process holds is neither evicted nor removed, and once that
// process is gone (even killed) it is.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../src/oci/store.js';
import { waitFor } from '../support/wait-for.js';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'store-process.ts');

describe('an image store shared by processes (real registry)', () => {
  let registry: TestRegistry;
  let image: string;
  const dirs: string[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    registry = await startRegistry();
    pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', 'shared');
    image = `${registry.host}/tools/busybox:shared`;
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await registry.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const newRoot = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tart-store-processes-'));
    dirs.push(dir);
    return dir;
  };

  // Starts the fixture; resolves once it holds the image, with the layers it downloaded.
  const otherProcess = (mode: 'hold' | 'slow-pull', root: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, root, image], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const held = waitFor(() => output.includes('\n') || child.exitCode !== null, 60_000, `${mode} to hold the image`).then(
      () => Number(/^held (\d+)/.exec(output)?.[1] ?? Number.NaN),
    );
    return { child, held, exited };
  };

  it('lets one process pull an image while another waits for it and downloads nothing', async () => {
    const root = await newRoot();
    const blobsBefore = (await registry.blobGets()).length;
    const puller = otherProcess('slow-pull', root);
    // The other process resolves the tag, takes the pull lock, then waits 4 s before copying.
    await waitFor(() => existsSync(join(root, 'locks')), 30_000, 'the pull to start');
    const lines: string[] = [];
    const store = new ImageStore({ root });
    const mine = await store.acquire({ image, policies: ['always'], log: (line) => lines.push(line) });
    assert.equal(mine.downloadedLayers, 0, 'this process downloaded nothing');
    assert.ok(lines.some((line) => /^Waiting for another Tart process \(pid \d+\) to pull /.test(line)), lines.join('\n'));
    assert.equal(await puller.held, 3, 'the other process downloaded the three layers');
    assert.equal((await registry.blobGets()).length - blobsBefore, 3 + 1, 'three layers and one config, once');
    mine.release();
    puller.child.stdin!.end();
    assert.equal(await puller.exited, 0);
  });

  it("neither evicts nor removes an image another process's job holds, and does once that process is gone", async () => {
    const root = await newRoot();
    const holder = otherProcess('hold', root);
    assert.equal(await holder.held, 3);
    const store = new ImageStore({ root });
    const [entry] = await store.entries();
    assert.ok(entry);
    assert.deepEqual(await store.evict(0), [], 'nothing evicted while the other process holds it');
    await assert.rejects(store.remove(entry), { code: 'IMAGE_IN_USE' });
    assert.equal((await store.entries()).length, 1);

    holder.child.kill('SIGKILL');
    await holder.exited;
    const evicted = await store.evict(0);
    assert.deepEqual(evicted.map((gone) => gone.manifestDigest), [entry.manifestDigest], "a killed holder's marker does not count");
    assert.deepEqual(await store.entries(), []);
  });
});
