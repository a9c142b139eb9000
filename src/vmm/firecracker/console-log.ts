// The guest's serial console (Firecracker's stdout/stderr) captured to the per-VM log file with a
// size bound — the guest controls the volume (firecracker.md §1.7) — plus an in-memory tail for
// error messages. The file is 0600: a job may print anything on its console.
import { open, type FileHandle } from 'node:fs/promises';

export interface ConsoleLogOptions {
  path: string;
  /** Bytes written to the file at most; later output only reaches the in-memory tail. */
  maxFileBytes?: number;
  /** Bytes kept in memory for consoleTail(). */
  tailBytes?: number;
}

export const DEFAULT_CONSOLE_MAX_FILE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_CONSOLE_TAIL_BYTES = 64 * 1024;

/** A bounded console sink: append chunks in order, read the newest bytes, close once. */
export class ConsoleLog {
  private written = 0;
  private truncated = false;
  private tailChunks: Buffer[] = [];
  private tailSize = 0;
  private pending: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: FileHandle,
    private readonly maxFileBytes: number,
    private readonly tailBytes: number,
  ) {}

  static async open(options: ConsoleLogOptions): Promise<ConsoleLog> {
    const file = await open(options.path, 'w', 0o600);
    return new ConsoleLog(
      file,
      options.maxFileBytes ?? DEFAULT_CONSOLE_MAX_FILE_BYTES,
      options.tailBytes ?? DEFAULT_CONSOLE_TAIL_BYTES,
    );
  }

  /** Appends a chunk; file writes are chained so the file keeps the console's order. */
  append(chunk: Buffer): void {
    this.keepInTail(chunk);
    const room = this.maxFileBytes - this.written;
    if (room <= 0) {
      if (!this.truncated) this.enqueue(Buffer.from(`\n[tart: console log truncated at ${this.maxFileBytes} bytes]\n`));
      this.truncated = true;
      return;
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.written += part.length;
    this.enqueue(part);
  }

  /** The newest `maxBytes` of console output (as text; may start mid-line). */
  tail(maxBytes: number): string {
    const all = Buffer.concat(this.tailChunks);
    return all.subarray(Math.max(0, all.length - maxBytes)).toString('utf8');
  }

  /** Flushes pending writes and closes the file. */
  async close(): Promise<void> {
    await this.pending;
    await this.file.close();
  }

  private enqueue(part: Buffer): void {
    // A failed console write must not kill the VM: the tail still has the bytes.
    this.pending = this.pending.then(() => this.file.write(part).then(() => undefined)).catch(() => undefined);
  }

  private keepInTail(chunk: Buffer): void {
    this.tailChunks.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailChunks.length > 1 && this.tailSize - (this.tailChunks[0]?.length ?? 0) >= this.tailBytes) {
      this.tailSize -= this.tailChunks.shift()?.length ?? 0;
    }
  }
}
