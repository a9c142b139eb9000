import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { extract } from 'tar-stream';
import { MAX_ARCHIVE_ENTRIES, openZipAsTar } from '../../src/artifacts/zip-to-tar.js';
import { hasCode } from '../../src/errors.js';
import { buildZip, type HandmadeEntry } from './handmade-zip.js';

// Consumers of the tar stream often await other I/O (a free-space probe, a channel) before
// their first read; the stream must neither fail nor lose its reason in the meantime.
describe('openZipAsTar with a consumer that starts late', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-zip-to-tar-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function open(entries: HandmadeEntry[]): Promise<Readable> {
    const zipPath = join(dir, 'archive.zip');
    await writeFile(zipPath, buildZip(entries));
    return (await openZipAsTar({ zipPath, projectDir: '/builds/acme/widget' })).tar;
  }

  // Reads the tar slowly: a pause before each chunk is taken.
  async function readSlowly(tar: Readable, pauseMs: number): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    const parser = extract();
    parser.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    const done = new Promise<void>((resolve, reject) => {
      parser.on('finish', resolve);
      parser.on('error', reject);
    });
    for await (const chunk of tar) {
      await sleep(pauseMs);
      parser.write(chunk as Buffer);
    }
    parser.end(undefined);
    await done;
    return files;
  }

  for (const [what, bad] of [
    ['a stored entry fails its CRC-32', { name: 'bad.txt', data: 'payload', declaredCrc: 0x12345678 }],
    [
      'a deflated entry inflates past its size',
      { name: 'bomb.bin', data: 'x'.repeat(1 << 20), deflate: true, declaredSize: 10 },
    ],
  ] as const) {
    it(`fails the first late read with the reason when ${what}`, async () => {
      const tar = await open([{ name: 'first.txt', data: 'fine' }, bad]);
      await sleep(150);
      assert.equal(tar.destroyed, false, 'nothing failed before anyone read');
      await assert.rejects(readSlowly(tar, 5), /corrupt zip entry/);
    });
  }

  it('delivers every byte to a consumer that waits before each chunk', async () => {
    const big = 'z'.repeat(3 << 20);
    const tar = await open([
      { name: 'a.txt', data: 'alpha' },
      { name: 'big.bin', data: big, deflate: true },
      { name: 'c.txt', data: 'gamma' },
    ]);
    await sleep(100);
    const files = await readSlowly(tar, 2);
    assert.deepEqual([...files.keys()], ['a.txt', 'big.bin', 'c.txt']);
    assert.equal(files.get('big.bin'), big);
    assert.equal(files.get('c.txt'), 'gamma');
  });

  it('can be destroyed before it is read', async () => {
    const tar = await open([{ name: 'a.txt', data: 'alpha' }]);
    tar.destroy();
    await sleep(20);
    assert.equal(tar.destroyed, true);
  });
});

describe('openZipAsTar limits', () => {
  it('refuses an archive with more entries than it extracts before reading any', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tart-zip-to-tar-'));
    try {
      const zipPath = join(dir, 'many.zip');
      const entries = Array.from({ length: 11 }, (_, index) => ({ name: `e${index}`, data: '' }));
      await writeFile(zipPath, buildZip(entries));
      await assert.rejects(
        openZipAsTar({ zipPath, projectDir: '/builds/p', maxEntries: 10 }),
        (error) =>
          hasCode(error, 'ARCHIVE_TOO_MANY_ENTRIES') && /11 entries, more than the 10/.test(String(error)),
      );
      const { tar } = await openZipAsTar({ zipPath, projectDir: '/builds/p', maxEntries: 11 });
      tar.destroy();
      assert.equal(MAX_ARCHIVE_ENTRIES, 1_000_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
