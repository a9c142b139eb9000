// Writes a zip stream of entries in the order given, reading ahead so the data of up to
// `readAhead` entries is compressed at once on libuv's thread pool (fastzip's parallel
// archiver, without staging files: the read-ahead is bounded in memory instead). Nothing is
// read before the consumer's first read. Replaces yazl, which computes CRC-32 in JavaScript,
// hands zlib 16 KiB pieces and compresses one entry at a time.
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { TartError } from '../errors.js';
import { crc32 } from '../gitlab/crc32.js';
import { takeEntryData, type EntryData } from './zip-entry-data.js';
import {
  STORED,
  centralDirectoryRecord,
  dataDescriptor,
  endOfCentralDirectory,
  localFileHeader,
  type ZipEntryRecord,
} from './zip-records.js';

interface EntryBase {
  /** Relative, `/`-separated, without `./`, `..` or a trailing slash. */
  name: string;
  /** Permission bits; the type bits are added from `kind`. */
  mode: number;
  mtime: Date;
}

export type ZipWriterEntry =
  | (EntryBase & { kind: 'file'; size: number; data: AsyncIterable<Buffer> })
  | (EntryBase & { kind: 'directory' })
  | (EntryBase & { kind: 'symlink'; target: string });

export interface ZipWriterOptions {
  /** zlib level 0–9; 0 stores. */
  compressionLevel: number;
  /** Entries read and compressing ahead of the one being written; default: CPUs + 2. */
  readAhead?: number;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Output is handed to the consumer in pieces of up to about this size. */
const OUTPUT_BATCH_SIZE = 1024 * 1024;
/** Queued output whose pieces are this large on average is handed out without copying. */
const LARGE_PIECE_SIZE = 16 * 1024;
/** The central directory goes out in pieces of about this size. */
const CENTRAL_DIRECTORY_PIECE = 1024 * 1024;

/** The zip of `entries`. The stream fails with the first entry that fails; destroying it stops reading. */
export function zipWriter(entries: AsyncIterable<ZipWriterEntry>, options: ZipWriterOptions): Readable {
  const readAhead = Math.max(2, options.readAhead ?? availableParallelism() + 2);
  const jobs: Array<PendingEntry | undefined> = [];
  let readerDone = false;
  let written = 0;
  let stopped = false;
  let started = false;
  // Bytes written but not yet handed to the stream: given out together when the consumer asks,
  // so a file or socket gets large writes rather than one per header.
  let queue: Buffer[] = [];
  let queued = 0;
  let wanted = false;
  let handOutScheduled = false;
  const handOut = (): void => {
    const pieces = queue;
    const bytes = queued;
    queue = [];
    queued = 0;
    wanted = false;
    // Large pieces (tar data, stored) go out as they are, so nothing is copied; small ones
    // (headers, small compressed entries) together.
    if (bytes >= LARGE_PIECE_SIZE * pieces.length) for (const piece of pieces) output.push(piece);
    else output.push(pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, bytes));
    wake();
  };
  // What is written in one run of the event loop goes out together.
  const handOutSoon = (): void => {
    handOutScheduled = false;
    if (wanted && queued > 0 && !stopped) handOut();
  };
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const sleep = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));

  const stop = (error?: Error): void => {
    if (stopped) return;
    stopped = true;
    for (const job of jobs) job?.data?.destroy();
    wake();
    if (error !== undefined) output.destroy(error);
  };

  // Reads entries and starts their data while fewer than readAhead are waiting to be written.
  const readEntries = async (): Promise<void> => {
    for await (const entry of entries) {
      while (jobs.length - written >= readAhead && !stopped) await sleep();
      if (stopped) return;
      const job = startEntry(entry, options.compressionLevel);
      jobs.push(job);
      wake();
      await job.data?.taken;
    }
    readerDone = true;
    wake();
  };

  // Writes entries in order, then the central directory.
  const writeArchive = async (): Promise<void> => {
    const records: ZipEntryRecord[] = [];
    let offset = 0;
    const emit = async (chunk: Buffer): Promise<void> => {
      offset += chunk.length;
      queue.push(chunk);
      queued += chunk.length;
      if (wanted && !handOutScheduled) {
        handOutScheduled = true;
        setImmediate(handOutSoon);
      }
      while (queued >= OUTPUT_BATCH_SIZE && !stopped) await sleep();
    };
    for (let index = 0; ; index += 1) {
      while (index >= jobs.length && !readerDone && !stopped) await sleep();
      if (stopped) return;
      const job = jobs[index];
      if (job === undefined) break;
      const record = await job.record;
      record.localHeaderOffset = offset;
      await emit(localFileHeader(record));
      if (job.data !== undefined) {
        for await (const chunk of job.data.output()) {
          if (stopped) return;
          await emit(chunk);
        }
        Object.assign(record, job.data.summary);
        await emit(dataDescriptor(record));
      } else if (job.content !== undefined) await emit(job.content);
      records.push(record);
      jobs[index] = undefined;
      written += 1;
      wake();
    }
    const centralDirectoryOffset = offset;
    let piece: Buffer[] = [];
    let pieceSize = 0;
    for (const record of records) {
      const bytes = centralDirectoryRecord(record);
      piece.push(bytes);
      pieceSize += bytes.length;
      if (pieceSize >= CENTRAL_DIRECTORY_PIECE) {
        await emit(Buffer.concat(piece, pieceSize));
        piece = [];
        pieceSize = 0;
      }
    }
    if (pieceSize > 0) await emit(Buffer.concat(piece, pieceSize));
    await emit(
      endOfCentralDirectory({
        entryCount: records.length,
        centralDirectoryOffset,
        centralDirectorySize: offset - centralDirectoryOffset,
      }),
    );
    if (stopped) return;
    if (queued > 0) handOut();
    output.push(null);
  };

  const output = new Readable({
    highWaterMark: OUTPUT_BATCH_SIZE,
    read() {
      wanted = true;
      if (queued > 0) handOut();
      if (started) return;
      started = true;
      const fail = (error: unknown): void => stop(error instanceof Error ? error : new Error(String(error)));
      readEntries().catch(fail);
      writeArchive().catch(fail);
    },
    destroy(error, callback) {
      stop();
      callback(error);
    },
  });
  return output;
}

// An entry on its way into the archive: its header fields, and its data while it is taken.
interface PendingEntry {
  record: Promise<ZipEntryRecord>;
  data?: EntryData;
  /** Bytes written as they are (a symlink's target). */
  content?: Buffer;
}

function startEntry(entry: ZipWriterEntry, level: number): PendingEntry {
  const common = { mtime: entry.mtime, crc: 0, compressedSize: 0, uncompressedSize: 0, localHeaderOffset: 0 };
  switch (entry.kind) {
    case 'directory':
      return {
        record: Promise.resolve({
          ...common,
          name: Buffer.from(`${entry.name}/`, 'utf8'),
          mode: S_IFDIR | entry.mode,
          method: STORED,
          hasDataDescriptor: false,
        }),
      };
    case 'symlink': {
      const content = Buffer.from(entry.target, 'utf8');
      const record: ZipEntryRecord = {
        ...common,
        name: Buffer.from(entry.name, 'utf8'),
        mode: S_IFLNK | entry.mode,
        method: STORED,
        hasDataDescriptor: false,
        crc: crc32(content),
        compressedSize: content.length,
        uncompressedSize: content.length,
      };
      return { record: Promise.resolve(record), content };
    }
    case 'file': {
      const data = takeEntryData(entry.data, entry.size, level);
      const name = Buffer.from(entry.name, 'utf8');
      const record = data.method.then((method) => ({
        ...common,
        name,
        mode: S_IFREG | entry.mode,
        method,
        hasDataDescriptor: true,
      }));
      record.catch(() => undefined);
      return { record, data };
    }
    default:
      throw new TartError('ARCHIVE_UNSUPPORTED_ENTRY', 'unknown zip entry kind');
  }
}
