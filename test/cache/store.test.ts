import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LocalCacheStore } from '../../src/cache/store.js';
import { hasCode } from '../../src/errors.js';
import { buildZip } from '../artifacts/handmade-zip.js';

// A zip body delivered in small chunks with pauses, so concurrent writers really interleave.
function slowZip(content: Buffer): Readable {
  const zip = buildZip([{ name: 'payload.bin', data: content }]);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < zip.length; offset += 16 * 1024) {
      yield zip.subarray(offset, offset + 16 * 1024);
      await sleep(1);
    }
  }
  return Readable.from(chunks());
}

describe('LocalCacheStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-cache-store-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("keeps gitlab-runner's layout <cache_dir>/<project>/<key>/cache.zip with metadata.json, private to the owner", async () => {
    const store = new LocalCacheStore({ dir });
    const stored = await store.publish(
      { project: 'acme/widget', key: 'deps/main-protected' },
      Readable.from([buildZip([{ name: 'a', data: 'x' }])]),
    );
    assert.equal(stored.path, join(dir, 'acme/widget/deps/main-protected/cache.zip'));
    const metadata = JSON.parse(
      await readFile(join(dir, 'acme/widget/deps/main-protected/metadata.json'), 'utf8'),
    );
    assert.deepEqual(metadata, { cachekey: 'deps/main-protected' });
    assert.equal((await stat(stored.path)).mode & 0o777, 0o600);
    assert.deepEqual(await store.stat({ project: 'acme/widget', key: 'deps/main-protected' }), stored);
    assert.equal(await store.stat({ project: 'acme/widget', key: 'other' }), undefined);
  });

  it('refuses keys that would leave the cache dir', () => {
    const store = new LocalCacheStore({ dir });
    assert.throws(
      () => store.archivePath({ project: 'acme/widget', key: '../../etc' }),
      (error) => hasCode(error, 'CACHE_KEY_INVALID'),
    );
  });

  it('leaves one intact archive when two jobs publish the same key at once', async () => {
    const store = new LocalCacheStore({ dir });
    const ref = { project: 'acme/widget', key: 'shared' };
    const [first, second] = [randomBytes(300 * 1024), randomBytes(300 * 1024)];
    await Promise.all([store.publish(ref, slowZip(first)), store.publish(ref, slowZip(second))]);
    const path = store.archivePath(ref);
    execFileSync('unzip', ['-tq', path]);
    const content = execFileSync('unzip', ['-p', path, 'payload.bin']);
    assert.ok(content.equals(first) || content.equals(second), 'the archive is one of the two, never a mix');
    assert.deepEqual((await readdir(join(dir, 'acme/widget/shared'))).sort(), ['cache.zip', 'metadata.json']);
  });

  it('keeps the previous archive and no temp file when a publish fails half-way', async () => {
    const store = new LocalCacheStore({ dir });
    const ref = { project: 'p', key: 'k' };
    await store.publish(ref, Readable.from([buildZip([{ name: 'old', data: 'old' }])]));
    const failing = new Readable({
      read() {
        this.push(Buffer.from('PK partial'));
        this.destroy(new Error('tar failed'));
      },
    });
    await assert.rejects(store.publish(ref, failing), /tar failed/);
    assert.equal(execFileSync('unzip', ['-p', store.archivePath(ref), 'old'], { encoding: 'utf8' }), 'old');
    assert.deepEqual((await readdir(join(dir, 'p/k'))).sort(), ['cache.zip', 'metadata.json']);
  });

  it('evicts the least recently used archives beyond the size bound', async () => {
    const archive = (): Readable => Readable.from([buildZip([{ name: 'f', data: randomBytes(1000) }])]);
    const size = buildZip([{ name: 'f', data: randomBytes(1000) }]).length;
    const store = new LocalCacheStore({ dir, maxSizeBytes: size * 2 });
    await store.publish({ project: 'p', key: 'a' }, archive());
    await sleep(20);
    await store.publish({ project: 'p', key: 'b' }, archive());
    await sleep(20);
    assert.ok(await store.use({ project: 'p', key: 'a' }), 'a restored: now more recent than b');
    await sleep(20);
    await store.publish({ project: 'p', key: 'c' }, archive());
    assert.ok(await store.stat({ project: 'p', key: 'a' }));
    assert.equal(await store.stat({ project: 'p', key: 'b' }), undefined);
    assert.ok(await store.stat({ project: 'p', key: 'c' }));
    assert.deepEqual((await readdir(join(dir, 'p'))).sort(), ['a', 'c'], 'the evicted key dir is removed');
  });

  it('does not change the build time (mtime) when an archive is used', async () => {
    const store = new LocalCacheStore({ dir });
    const ref = { project: 'p', key: 'k' };
    const published = await store.publish(ref, Readable.from([buildZip([{ name: 'f', data: 'x' }])]));
    await sleep(20);
    const used = await store.use(ref);
    assert.equal(used?.modifiedAt.getTime(), published.modifiedAt.getTime());
  });
});
