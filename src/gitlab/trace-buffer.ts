// The job log as bytes, kept in a private temp file so memory stays flat whatever the limit.
// Applies `output_limit` with gitlab-runner's notice (§4.6) and keeps CRC-32 and size over
// exactly the bytes kept (§4.5), which are the bytes the trace sender sends.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { TartError } from '../errors.js';
import { ANSI } from '../model/ansi.js';
import { DEFAULT_OUTPUT_LIMIT_KIB } from '../model/defaults.js';
import { crc32, formatChecksum } from './crc32.js';
import { Utf8Sanitizer, utf8BoundaryBefore } from './utf8-sanitizer.js';

/** gitlab-runner's default `output_limit` in bytes. */
export const DEFAULT_OUTPUT_LIMIT_BYTES = DEFAULT_OUTPUT_LIMIT_KIB * 1024;

/** Output queued while a file write is in flight before the writer is held back. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** The exact notice appended when the log reaches its limit. */
export function outputLimitNotice(limitBytes: number): Buffer {
  return Buffer.from(
    `\n${ANSI.boldYellow}Job's log exceeded limit of ${limitBytes} bytes.\nJob execution will continue but no more output will be collected.${ANSI.reset}\n`,
  );
}

export interface TraceBufferOptions {
  /** Bytes of output kept before the notice (default 4 MiB). `output_limit` is in KiB: multiply by 1024. */
  limitBytes?: number;
  /** Where the private temp directory is made (default the OS temp dir). */
  tmpDir?: string;
}

export class TraceBuffer extends Writable {
  readonly limitBytes: number;
  #file: FileHandle;
  #dir: string;
  #size = 0;
  #crc = 0;
  #limitReached = false;
  #utf8 = new Utf8Sanitizer();
  #waiters = new Set<() => void>();
  #closed = false;

  /** Makes the 0600 temp file in a 0700 directory. Call `close()` to remove it. */
  static async create(options: TraceBufferOptions = {}): Promise<TraceBuffer> {
    const limit = options.limitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
    if (!Number.isSafeInteger(limit) || limit <= 0)
      throw new TartError('TRACE_BAD_LIMIT', `Invalid output limit: ${limit}`);
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'tart-trace-'));
    try {
      const file = await open(join(dir, 'trace.log'), 'wx+', 0o600);
      return new TraceBuffer(file, dir, limit);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(file: FileHandle, dir: string, limitBytes: number) {
    // Chunks queue while a file write is in flight and go out together in one write (_writev).
    super({ decodeStrings: true, highWaterMark: WRITE_BATCH_BYTES });
    this.#file = file;
    this.#dir = dir;
    this.limitBytes = limitBytes;
    this.on('finish', () => this.#wake());
    this.on('close', () => this.#wake());
  }

  /** Bytes kept so far (what `bytesize` reports). */
  get size(): number {
    return this.#size;
  }

  /** `crc32:%08x` over the bytes kept so far. */
  get checksum(): string {
    return formatChecksum(this.#crc);
  }

  get limitReached(): boolean {
    return this.#limitReached;
  }

  /** True once the writer ended the log and every byte is in the file. */
  get complete(): boolean {
    return this.writableFinished;
  }

  /** Up to `length` kept bytes from `offset` (fewer at the end of the log). */
  async read(offset: number, length: number): Promise<Buffer> {
    const count = Math.max(0, Math.min(length, this.#size - offset));
    if (count === 0) return Buffer.alloc(0);
    const target = Buffer.allocUnsafe(count);
    const { bytesRead } = await this.#file.read(target, 0, count, offset);
    return target.subarray(0, bytesRead);
  }

  /** Resolves once more than `knownSize` bytes are kept, or the log is complete or closed. */
  waitForData(knownSize: number): Promise<void> {
    if (this.#size > knownSize || this.writableFinished || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#size > knownSize || this.writableFinished || this.destroyed) {
          this.#waiters.delete(check);
          resolve();
        }
      };
      this.#waiters.add(check);
    });
  }

  /** Resolves when the writer has ended the log and everything is stored (or the buffer was destroyed). */
  whenComplete(): Promise<void> {
    if (this.writableFinished || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.off('finish', done);
        this.off('close', done);
        resolve();
      };
      this.once('finish', done);
      this.once('close', done);
    });
  }

  /** Stops accepting output and removes the temp file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.destroyed) this.destroy();
    await this.#file.close().catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#limitReached) return callback(); // dropped output is never decoded or buffered
    this.#append(this.#utf8.push(chunk)).then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    if (this.#limitReached) return callback();
    this.#append(this.#utf8.push(Buffer.concat(chunks.map(({ chunk }) => chunk)))).then(
      () => callback(),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#append(this.#utf8.flush()).then(() => callback(), callback);
  }

  // Keeps what fits under the limit; on reaching it, cuts at a character boundary and adds the notice.
  async #append(data: Buffer): Promise<void> {
    if (this.#limitReached || data.length === 0) return;
    const capacity = this.limitBytes - this.#size;
    if (data.length < capacity) return this.#store(data);
    this.#limitReached = true;
    await this.#store(
      Buffer.concat([
        data.subarray(0, utf8BoundaryBefore(data, capacity)),
        outputLimitNotice(this.limitBytes),
      ]),
    );
  }

  async #store(data: Buffer): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.#file.write(
        data,
        written,
        data.length - written,
        this.#size + written,
      );
      written += bytesWritten;
    }
    this.#crc = crc32(data, this.#crc);
    this.#size += data.length;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
