import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { crc32, tableCrc32 } from '../../src/gitlab/crc32.js';
import { DEFLATE_CHUNK_SIZE } from '../../src/artifacts/zip-entry-data.js';
import { zipFromTar } from '../../src/artifacts/zip-from-tar.js';
import { openZipAsTar } from '../../src/artifacts/zip-to-tar.js';
import { readTar } from '../support/read-tar.js';

interface TarSpec {
  name: string;
  data?: Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
  mode?: number;
}

const MTIME = new Date('2024-05-06T07:08:08Z');

// A tar stream made in this process, so tests control how fast (and in what pieces) it flows.
function tarOf(entries: TarSpec[]): Readable {
  const tar = pack();
  (async () => {
    for (const entry of entries) {
      const header = {
        name: entry.name,
        type: entry.type ?? 'file',
        mode: entry.mode ?? (entry.type === 'directory' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644),
        mtime: MTIME,
        linkname: entry.linkname,
      };
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null): void => (error ? reject(error) : resolve());
        if (header.type === 'file') tar.entry(header, entry.data ?? Buffer.alloc(0), done);
        else tar.entry(header, done);
      });
    }
    tar.finalize();
  })().catch((error: Error) => tar.destroy(error));
  return Readable.from(tar as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

// A tar of empty files, header by header (tar-stream's pack takes seconds for 65,535 entries).
function emptyFilesTar(names: string[]): Buffer {
  const tar = Buffer.alloc(names.length * 512 + 1024);
  names.forEach((name, index) => {
    const header = tar.subarray(index * 512, index * 512 + 512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write('00000000000\0', 124);
    header.write(
      `${Math.floor(MTIME.getTime() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\u000000', 257, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  });
  return tar;
}

// The same bytes in `piece`-sized chunks with a pause before each: a producer that trickles.
function trickle(source: Readable, piece: number, pauseMs: number): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < chunk.length; offset += piece) {
          await delay(pauseMs);
          yield chunk.subarray(offset, offset + piece);
        }
      }
    })(),
    { objectMode: false },
  );
}

// Reads the whole stream; `firstReadAfterMs` delays the first read, `pauseMs` each further one.
async function collect(
  stream: Readable,
  options: { firstReadAfterMs?: number; pauseMs?: number } = {},
): Promise<Buffer> {
  if (options.firstReadAfterMs !== undefined) await delay(options.firstReadAfterMs);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    if (options.pauseMs !== undefined) await delay(options.pauseMs);
  }
  return Buffer.concat(chunks);
}

const TEXT = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit\n'.repeat(40_000));
const RANDOM = randomBytes(3 * DEFLATE_CHUNK_SIZE + 17);
const ENTRIES: TarSpec[] = [
  { name: 'dir/', type: 'directory', mode: 0o750 },
  { name: 'dir/empty', data: Buffer.alloc(0) },
  { name: 'dir/small.txt', data: Buffer.from('hello\n'), mode: 0o755 },
  { name: 'dir/text.txt', data: TEXT },
  { name: 'dir/random.bin', data: RANDOM },
  { name: 'dir/link', type: 'symlink', linkname: 'text.txt' },
  ...Array.from({ length: 40 }, (_, index) => ({ name: `many/f${index}`, data: randomBytes(index * 1000) })),
];

describe('zipFromTar', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-zip-from-tar-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const check = async (zip: Buffer, name: string): Promise<string> => {
    const zipPath = join(dir, name);
    await writeFile(zipPath, zip);
    execFileSync('unzip', ['-tq', zipPath]);
    const tar = await readTar((await openZipAsTar({ zipPath, projectDir: '/builds/p' })).tar);
    for (const entry of ENTRIES) {
      const name = entry.name.replace(/\/$/, '');
      const read = tar.get(name);
      assert.ok(read, `${name} restored`);
      if (entry.type === undefined)
        assert.ok(read.body.equals(entry.data ?? Buffer.alloc(0)), `${name} content`);
    }
    return zipPath;
  };

  for (const level of [0, 1, 5, 9]) {
    it(`writes entries large and small, in tar order, that unzip and yauzl read back, at level ${level}`, async () => {
      const zipPath = await check(
        await collect(zipFromTar(tarOf(ENTRIES), { compressionLevel: level })),
        `level-${level}.zip`,
      );
      const names = execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual(
        names,
        ENTRIES.map((entry) => entry.name),
      );
      const listing = execFileSync('zipinfo', [zipPath], { encoding: 'utf8' });
      assert.match(listing, /^drwxr-x--- .* dir\/$/m);
      assert.match(listing, /^-rwxr-xr-x .* dir\/small\.txt$/m);
      assert.match(listing, /^lrwxrwxrwx .* stor .* dir\/link$/m);
      assert.match(listing, /^-rw-r--r-- .* stor .* dir\/empty$/m);
      assert.match(
        listing,
        new RegExp(`^-rw-r--r-- .* ${level === 0 ? 'stor' : 'def.'} .* dir/text\\.txt$`, 'm'),
      );
      // Random data does not compress: stored, as fastzip stores what deflate cannot shrink.
      assert.match(listing, /^-rw-r--r-- .* stor .* dir\/random\.bin$/m);
    });
  }

  it('writes the same bytes however many entries it compresses ahead', async () => {
    const one = await collect(zipFromTar(tarOf(ENTRIES), { readAhead: 1 }));
    const eight = await collect(zipFromTar(tarOf(ENTRIES), { readAhead: 8 }));
    assert.ok(one.equals(eight));
  });

  it('writes the same bytes however the tar stream is cut into pieces', async () => {
    const small = ENTRIES.filter((entry) => (entry.data?.length ?? 0) < 50_000);
    const whole = await collect(zipFromTar(tarOf(small)));
    const pieces = await collect(zipFromTar(trickle(tarOf(small), 999, 0)));
    assert.ok(whole.equals(pieces));
  });

  it('streams a stored entry larger than what it holds in memory', async () => {
    const big = Buffer.concat([RANDOM, TEXT]);
    const zip = await collect(zipFromTar(tarOf([{ name: 'big.bin', data: big }]), { compressionLevel: 0 }), {
      pauseMs: 1,
    });
    const zipPath = join(dir, 'big-stored.zip');
    await writeFile(zipPath, zip);
    assert.match(execFileSync('zipinfo', [zipPath], { encoding: 'utf8' }), /stor .* big\.bin$/m);
    assert.ok(execFileSync('unzip', ['-p', zipPath, 'big.bin'], { maxBuffer: 64 << 20 }).equals(big));
  });

  it('finishes for a consumer that delays its first read and then reads slowly', async () => {
    const zip = await collect(zipFromTar(tarOf(ENTRIES)), { firstReadAfterMs: 300, pauseMs: 2 });
    await check(zip, 'slow-consumer.zip');
  });

  it('finishes for a producer that trickles the tar in small pieces', async () => {
    const small = ENTRIES.filter((entry) => (entry.data?.length ?? 0) < 100_000);
    const zip = await collect(zipFromTar(trickle(tarOf(small), 700, 0)), { firstReadAfterMs: 100 });
    const zipPath = join(dir, 'trickle.zip');
    await writeFile(zipPath, zip);
    execFileSync('unzip', ['-tq', zipPath]);
    assert.equal(
      execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' }).trim().split('\n').length,
      small.length,
    );
  });

  it('finishes when the producer trickles a large file while the consumer is slow', async () => {
    const tar = trickle(
      tarOf([
        { name: 'big.bin', data: RANDOM },
        { name: 'next.txt', data: TEXT },
      ]),
      256 * 1024,
      5,
    );
    const zip = await collect(zipFromTar(tar), { firstReadAfterMs: 200, pauseMs: 1 });
    const zipPath = join(dir, 'big-trickle.zip');
    await writeFile(zipPath, zip);
    execFileSync('unzip', ['-tq', zipPath]);
    assert.ok(execFileSync('unzip', ['-p', zipPath, 'big.bin'], { maxBuffer: 64 << 20 }).equals(RANDOM));
  });

  it('stops the tar stream when the consumer gives up half-way', async () => {
    const tar = tarOf(ENTRIES);
    const zip = zipFromTar(tar);
    let read = 0;
    for await (const chunk of zip) {
      read += (chunk as Buffer).length;
      if (read > 100_000) break;
    }
    await delay(20);
    assert.ok(tar.destroyed, 'the tar stream is destroyed');
  });

  it('fails with ARCHIVE_UNSAFE_ENTRY for `..` and absolute names, and for hard links', async () => {
    for (const name of ['../escape', 'a/../../b', '/etc/passwd']) {
      await assert.rejects(collect(zipFromTar(tarOf([{ name, data: Buffer.from('x') }]))), {
        code: 'ARCHIVE_UNSAFE_ENTRY',
      });
    }
    const tar = pack();
    tar.entry({ name: 'hard', type: 'link', linkname: 'other' });
    tar.finalize();
    await assert.rejects(
      collect(zipFromTar(Readable.from(tar as unknown as AsyncIterable<Buffer>, { objectMode: false }))),
      {
        code: 'ARCHIVE_UNSUPPORTED_ENTRY',
      },
    );
  });

  it('fails the zip stream when the tar stream fails mid-file, without waiting for a reader', async () => {
    const tar = new PassThrough();
    const zip = zipFromTar(tar);
    const whole = await collect(tarOf([{ name: 'a.bin', data: RANDOM }]));
    tar.write(whole.subarray(0, 600_000));
    setTimeout(() => tar.destroy(new Error('tar died')), 50);
    await assert.rejects(collect(zip, { firstReadAfterMs: 10 }), /tar died/);
  });

  it('writes zip64 end records for 65,535 entries or more, which unzip and yauzl read', async () => {
    const count = 65_535;
    const names = Array.from({ length: count }, (_, index) => `e/${index}`);
    const zipPath = join(dir, 'many.zip');
    await writeFile(zipPath, await collect(zipFromTar(Readable.from([emptyFilesTar(names)]))));
    execFileSync('unzip', ['-tq', zipPath]);
    const listing = execFileSync('zipinfo', ['-t', zipPath], { encoding: 'utf8' });
    assert.match(listing, /^65535 files/m);
    const zip = await readFile(zipPath);
    assert.equal(zip.readUInt16LE(zip.length - 22 + 10), 0xffff, 'the classic end record defers to zip64');
    assert.equal(zip.readUInt32LE(zip.length - 22 - 20 - 56), 0x06064b50, 'zip64 end record');
    const { entries: planned } = await openZipAsTar({ zipPath, projectDir: '/builds/p' });
    assert.equal(planned.length, count);
  });
});

describe('crc32', () => {
  it('gives the same value natively and in JavaScript, also when continued', () => {
    const data = randomBytes(100_003);
    assert.equal(crc32(data), tableCrc32(data));
    assert.equal(crc32(data.subarray(5000), crc32(data.subarray(0, 5000))), tableCrc32(data));
    assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926);
  });
});
