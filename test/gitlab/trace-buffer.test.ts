import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { formatChecksum, tableCrc32 } from '../../src/gitlab/crc32.js';
import { DEFAULT_OUTPUT_LIMIT_BYTES, outputLimitNotice, TraceBuffer } from '../../src/gitlab/trace-buffer.js';

async function withBuffer(
  limitBytes: number | undefined,
  body: (buffer: TraceBuffer, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tart-trace-test-'));
  const buffer = await TraceBuffer.create({ tmpDir: dir, ...(limitBytes ? { limitBytes } : {}) });
  try {
    await body(buffer, dir);
  } finally {
    await buffer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeAll(buffer: TraceBuffer, chunks: Array<string | Buffer>): Promise<void> {
  await pipeline(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), buffer);
}

describe('TraceBuffer', () => {
  it('keeps the bytes written, with their size and CRC-32', async () => {
    await withBuffer(undefined, async (buffer) => {
      const chunks = ['Running with tart\n', Buffer.from('\x1b[32;1mok\x1b[0;m\n'), 'ünïcödé ✓ 😀\n'];
      await writeAll(buffer, chunks);
      const expected = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
      assert.equal(buffer.size, expected.length);
      assert.equal(buffer.checksum, formatChecksum(zlib.crc32(expected)));
      assert.deepEqual(await buffer.read(0, 1 << 20), expected);
      assert.deepEqual(await buffer.read(5, 4), expected.subarray(5, 9));
      assert.deepEqual(await buffer.read(expected.length, 10), Buffer.alloc(0));
      assert.equal(buffer.complete, true);
    });
  });

  it('reports an empty log as crc32:00000000 and size 0', async () => {
    await withBuffer(undefined, async (buffer) => {
      await writeAll(buffer, []);
      assert.equal(buffer.checksum, 'crc32:00000000');
      assert.equal(buffer.size, 0);
    });
  });

  it('cuts at the limit with gitlab-runner’s exact notice and drops everything after it', async () => {
    await withBuffer(16, async (buffer) => {
      await writeAll(buffer, ['0123456789', 'abcdefghij', 'never kept']);
      const expected = Buffer.concat([Buffer.from('0123456789abcdef'), outputLimitNotice(16)]);
      assert.equal(
        outputLimitNotice(16).toString(),
        "\n\x1b[33;1mJob's log exceeded limit of 16 bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n",
      );
      assert.deepEqual(await buffer.read(0, 1000), expected);
      assert.equal(buffer.size, expected.length);
      assert.equal(
        buffer.checksum,
        formatChecksum(zlib.crc32(expected)),
        'the notice is part of the checksum',
      );
      assert.equal(buffer.limitReached, true);
    });
  });

  it('never cuts inside a multi-byte character at the limit', async () => {
    await withBuffer(5, async (buffer) => {
      await writeAll(buffer, ['abc', '€uro']); // € is 3 bytes: a b c | E2 82 AC would cross byte 5
      const kept = await buffer.read(0, 1000);
      assert.deepEqual(kept.subarray(0, kept.length - outputLimitNotice(5).length), Buffer.from('abc'));
    });
  });

  it('replaces invalid UTF-8 with U+FFFD but keeps characters split across writes intact', async () => {
    await withBuffer(undefined, async (buffer) => {
      const euro = Buffer.from('€');
      await writeAll(buffer, [
        Buffer.from([0x61, 0xff, 0x62]),
        euro.subarray(0, 1),
        euro.subarray(1),
        Buffer.from([0xe2, 0x82]),
      ]);
      assert.equal((await buffer.read(0, 100)).toString('utf8'), 'a\uFFFDb€\uFFFD');
    });
  });

  it('stores kept bytes in a private 0600 file that close() removes', async () => {
    await withBuffer(undefined, async (buffer, dir) => {
      await writeAll(buffer, ['secret-free output\n']);
      const [traceDir] = readdirSync(dir);
      const file = join(dir, traceDir!, 'trace.log');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, traceDir!)).mode & 0o777, 0o700);
      await buffer.close();
      assert.equal(existsSync(file), false);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it('keeps only the limit on disk however much is written, with the default 4 MiB limit', async () => {
    await withBuffer(undefined, async (buffer, dir) => {
      const chunk = randomBytes(64 * 1024).toString('base64'); // ASCII, 87 KiB
      await pipeline(
        Readable.from(
          (function* () {
            for (let i = 0; i < 400; i++) yield chunk;
          })(),
        ),
        buffer,
      );
      assert.equal(
        buffer.size,
        DEFAULT_OUTPUT_LIMIT_BYTES + outputLimitNotice(DEFAULT_OUTPUT_LIMIT_BYTES).length,
      );
      const [traceDir] = readdirSync(dir);
      assert.equal(statSync(join(dir, traceDir!, 'trace.log')).size, buffer.size);
    });
  });

  it('wakes waiters when data arrives and when the log ends', async () => {
    await withBuffer(undefined, async (buffer) => {
      const waiting = buffer.waitForData(0);
      let woke = false;
      void waiting.then(() => (woke = true));
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(woke, false);
      buffer.write('x');
      await waiting;
      const ended = buffer.waitForData(1);
      buffer.end();
      await ended;
      await buffer.whenComplete();
      assert.equal(buffer.complete, true);
    });
  });
});

describe('crc32', () => {
  it('the table implementation matches zlib’s, incrementally', () => {
    const data = randomBytes(100_000);
    const whole = zlib.crc32(data);
    assert.equal(tableCrc32(data.subarray(30_000), tableCrc32(data.subarray(0, 30_000), 0)), whole);
    assert.equal(formatChecksum(0x0a3f91bc), 'crc32:0a3f91bc');
  });
});
