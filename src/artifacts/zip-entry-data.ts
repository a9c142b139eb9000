// One zip file entry's data: read from its source (a tar entry), CRC-32 counted natively on the
// main thread, deflated by node:zlib's async API on libuv's thread pool, so several entries
// compress at once while the archive is written in order. An entry up to DEFLATE_CHUNK_SIZE is
// compressed in one call; empty files are stored (as fastzip does), and so are entries whose
// samples do not compress (sampleRatio). A larger entry streams through zlib in
// DEFLATE_CHUNK_SIZE pieces, its compressed output buffered up to OUTPUT_BUFFER_SIZE while earlier entries are still written.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createDeflateRaw, deflateRaw, type ZlibOptions } from 'node:zlib';
import { TartError } from '../errors.js';
import { crc32 } from '../gitlab/crc32.js';
import { DEFLATED, STORED } from './zip-records.js';

/** The most input handed to zlib in one call, and the largest entry compressed whole. */
export const DEFLATE_CHUNK_SIZE = 1024 * 1024;
/** Entries from this size on are probed for incompressible data before they are deflated. */
const PROBE_MIN_SIZE = 64 * 1024;
/** Bytes deflated from each of three places of an entry to probe it. */
const PROBE_SAMPLE_SIZE = 4 * 1024;
/** Samples that deflate to more than this share of their size count as incompressible. */
const INCOMPRESSIBLE_RATIO = 0.97;
/** Compressed (or stored) bytes a streamed entry may hold before it waits for the writer. */
const OUTPUT_BUFFER_SIZE = 4 * 1024 * 1024;

export interface EntryDataSummary {
  method: typeof STORED | typeof DEFLATED;
  crc: number;
  uncompressedSize: number;
  compressedSize: number;
}

export interface EntryData {
  /** Settles once the source was read to its end, so the next entry can be read; rejects as the source failed. */
  readonly taken: Promise<void>;
  /** Resolves to the compression method once it is decided (before any output). */
  readonly method: Promise<EntryDataSummary['method']>;
  /** The entry's bytes as they go into the archive; throws what failed. Read once. */
  output(): AsyncIterable<Buffer>;
  /** CRC and sizes; complete once output() was read to its end. */
  readonly summary: EntryDataSummary;
  /** Stops reading and compressing (the archive is abandoned). */
  destroy(): void;
}

/** Starts taking `source` (`size` bytes, as declared by the tar header) at zlib `level` (0 stores). */
export function takeEntryData(source: AsyncIterable<Buffer>, size: number, level: number): EntryData {
  // Stored data is only collected (no copy), so stored entries are taken whole up to the output bound.
  const wholeLimit = level === 0 ? OUTPUT_BUFFER_SIZE : DEFLATE_CHUNK_SIZE;
  return size > wholeLimit ? streamEntry(source, size, level) : wholeEntry(source, size, level);
}

// Small entries: all input first, then one deflate call on the thread pool.
function wholeEntry(source: AsyncIterable<Buffer>, size: number, level: number): EntryData {
  const summary: EntryDataSummary = { method: STORED, crc: 0, uncompressedSize: 0, compressedSize: 0 };
  let destroyed = false;
  let chunks: Buffer[] = [];
  const taken = (async () => {
    for await (const chunk of source) {
      if (destroyed) return;
      summary.crc = crc32(chunk, summary.crc);
      summary.uncompressedSize += chunk.length;
      chunks.push(chunk);
    }
    checkSize(summary.uncompressedSize, size);
  })();
  const compressed = taken.then(async () => {
    const stored = summary.uncompressedSize;
    if (destroyed) return [];
    if (level === 0 || stored === 0) return chunks;
    const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, stored);
    chunks = [];
    const ratio = await sampleRatio(raw, level);
    if (ratio !== undefined && ratio > INCOMPRESSIBLE_RATIO) return [raw];
    summary.method = DEFLATED;
    return [await deflateWhole(raw, level, ratio)];
  });
  const method = compressed.then(() => summary.method);
  handled(method);
  return {
    taken,
    method,
    summary,
    async *output() {
      const result = await compressed;
      chunks = [];
      for (const chunk of result) {
        summary.compressedSize += chunk.length;
        yield chunk;
      }
    },
    destroy() {
      destroyed = true;
      chunks = [];
    },
  };
}

// `ratio`: the expected compressed share, so the output buffer fits the result (zlib then
// returns once, not once per 16 KiB) without allocating the input's size for text that shrinks 100x.
function deflateWhole(raw: Buffer, level: number, ratio = 1): Promise<Buffer> {
  const fits = raw.length + (raw.length >> 8) + 1024;
  const chunkSize = Math.min(fits, Math.max(16 * 1024, Math.ceil(raw.length * ratio * 1.25) + 4096));
  return new Promise((resolve, reject) => {
    deflateRaw(raw, { level, chunkSize }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

// Large entries: fed to zlib (or passed through, stored) while read, in DEFLATE_CHUNK_SIZE pieces.
// The method is chosen on the first piece, before any output.
function streamEntry(source: AsyncIterable<Buffer>, size: number, level: number): EntryData {
  const summary: EntryDataSummary = { method: STORED, crc: 0, uncompressedSize: 0, compressedSize: 0 };
  let sink: (Readable & Writable) | undefined;
  let destroyed = false;
  let chosen: (sink: Readable & Writable) => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const sinkReady = new Promise<Readable & Writable>((resolve, reject) => {
    chosen = resolve;
    failed = reject;
  });
  handled(sinkReady);
  const choose = async (firstPiece: Buffer): Promise<Readable & Writable> => {
    const store = level === 0 || ((await sampleRatio(firstPiece, level)) ?? 0) > INCOMPRESSIBLE_RATIO;
    summary.method = store ? STORED : DEFLATED;
    sink = store
      ? new PassThrough({ highWaterMark: OUTPUT_BUFFER_SIZE })
      : createDeflateRaw(deflateOptions(level));
    // Failures reach the writer through output() and the reader through `taken`.
    sink.on('error', () => undefined);
    if (destroyed) sink.destroy();
    chosen(sink);
    return sink;
  };
  const pieceSize = level === 0 ? 0 : DEFLATE_CHUNK_SIZE;
  const taken = (async () => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    try {
      for await (const chunk of source) {
        if (destroyed) return;
        summary.crc = crc32(chunk, summary.crc);
        summary.uncompressedSize += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < pieceSize) continue;
        const piece = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        const target = sink ?? (await choose(piece));
        if (!target.write(piece)) await drained(target);
      }
      checkSize(summary.uncompressedSize, size);
      const rest = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      const target = sink ?? (await choose(rest));
      if (rest.length === 0) target.end();
      else target.end(rest);
    } catch (error) {
      sink?.destroy(error as Error);
      failed(error as Error);
      throw error;
    }
  })();
  return {
    taken,
    method: sinkReady.then(() => summary.method),
    summary,
    async *output() {
      for await (const chunk of await sinkReady) {
        summary.compressedSize += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    },
    destroy() {
      destroyed = true;
      sink?.destroy();
      failed(new TartError('ARCHIVE_ABANDONED', 'the archive was abandoned'));
    },
  };
}

function deflateOptions(level: number): ZlibOptions {
  return {
    level,
    chunkSize: DEFLATE_CHUNK_SIZE,
    writableHighWaterMark: 2 * DEFLATE_CHUNK_SIZE,
    readableHighWaterMark: OUTPUT_BUFFER_SIZE,
    // zlib passes the stream options on to Transform; @types/node does not list them.
  } as ZlibOptions;
}

/**
 * The share of its size that `data` deflates to, estimated on samples from its start, middle and
 * end deflated together. Above INCOMPRESSIBLE_RATIO (random or already compressed data: jars,
 * images, tarballs) the entry is stored, as fastzip stores a file that compresses larger;
 * deciding on samples saves deflating all of it first. Small entries are not sampled (undefined):
 * they are always deflated.
 */
async function sampleRatio(data: Buffer, level: number): Promise<number | undefined> {
  if (data.length < PROBE_MIN_SIZE) return undefined;
  const middle = (data.length - PROBE_SAMPLE_SIZE) >> 1;
  const samples = [0, middle, data.length - PROBE_SAMPLE_SIZE].map((offset) =>
    data.subarray(offset, offset + PROBE_SAMPLE_SIZE),
  );
  const sample = Buffer.concat(samples);
  const deflated = await deflateWhole(sample, level);
  return deflated.length / sample.length;
}

// Resolves on 'drain'; rejects when the stream closes first (destroyed or failed).
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(stream.errored ?? new TartError('ARCHIVE_ABANDONED', 'the archive was abandoned'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

function checkSize(actual: number, declared: number): void {
  if (actual !== declared) {
    throw new TartError(
      'ARCHIVE_SIZE_MISMATCH',
      `file data stream has ${actual} bytes instead of the declared ${declared}`,
    );
  }
}

// Marks a promise whose rejection is also reported elsewhere as handled.
function handled(promise: Promise<unknown>): void {
  promise.catch(() => undefined);
}
