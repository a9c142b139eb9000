// The guest's serial console: written to the per-VM log up to a size bound, with an in-memory
// tail for boot-failure reports and a watcher for marker lines.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

export class ConsoleLog {
  private readonly file: WriteStream;
  private written = 0;
  private tail = '';
  private readonly watchers = new Set<{ text: string; resolve: () => void }>();

  constructor(
    path: string,
    private readonly maxFileBytes = 4 * 1024 * 1024,
    private readonly maxTailChars = 64 * 1024,
  ) {
    this.file = createWriteStream(path, { mode: 0o600 });
    this.file.on('error', () => undefined);
  }

  /** Copies `source` (the VMM's console stream) into the log. */
  follow(source: Readable): void {
    source.on('data', (chunk: Buffer) => this.append(chunk));
  }

  append(chunk: Buffer): void {
    if (this.written < this.maxFileBytes) {
      const room = this.maxFileBytes - this.written;
      this.file.write(chunk.subarray(0, room));
      this.written += Math.min(room, chunk.length);
    }
    this.tail = (this.tail + chunk.toString('utf8')).slice(-this.maxTailChars);
    for (const watcher of this.watchers) {
      if (this.tail.includes(watcher.text)) {
        this.watchers.delete(watcher);
        watcher.resolve();
      }
    }
  }

  /** Resolves when `text` has appeared on the console. */
  waitFor(text: string): Promise<void> {
    if (this.tail.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.add({ text, resolve }));
  }

  lastChars(max: number): string {
    return this.tail.slice(-max);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }
}
