import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openZipAsTar } from '../../src/artifacts/zip-to-tar.js';
import { readTar } from '../support/read-tar.js';
import { buildZip } from './handmade-zip.js';

// openZipAsTar reads each entry's data itself, past the local header, in large pieces.
describe('openZipAsTar reading entry data', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-zip-to-tar-data-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const open = async (zip: Buffer): Promise<ReturnType<typeof readTar>> => {
    const zipPath = join(dir, 'archive.zip');
    await writeFile(zipPath, zip);
    return readTar((await openZipAsTar({ zipPath, projectDir: '/builds/acme/widget' })).tar);
  };

  it('reads stored and deflated entries of several MiB', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 'abc');
    const entries = await open(
      buildZip([
        { name: 'stored.bin', data: big },
        { name: 'deflated.bin', data: big, deflate: true },
        { name: 'empty', data: '' },
      ]),
    );
    assert.ok(entries.get('stored.bin')?.body.equals(big));
    assert.ok(entries.get('deflated.bin')?.body.equals(big));
    assert.equal(entries.get('empty')?.body.length, 0);
  });

  it('fails with ARCHIVE_INVALID when an entry has no local header where the directory says', async () => {
    const zip = buildZip([{ name: 'a.txt', data: 'hello' }]);
    zip.writeUInt32LE(0x12345678, 0);
    await assert.rejects(open(zip), { code: 'ARCHIVE_INVALID', message: /invalid local file header/ });
  });

  it('fails with ARCHIVE_INVALID when an entry claims more data than the archive holds', async () => {
    const zip = buildZip([{ name: 'a.txt', data: 'hello' }]);
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(1_000_000, central + 20);
    zip.writeUInt32LE(1_000_000, central + 24);
    await assert.rejects(open(zip), { code: 'ARCHIVE_INVALID', message: /past the end of the archive/ });
  });
});
