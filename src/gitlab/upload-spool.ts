// Lets an upload of a one-shot stream be retried: the first attempt streams the source straight
// through while a private temp file (0600) records it; later attempts replay that file.
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';

export class UploadSpool {
  #source: Readable;
  #dir: string;
  #path: string;
  #file: FileHandle;
  #live: PassThrough | undefined;
  #drained: Promise<void> | undefined;
  #bytes = 0;
  #sourceError: Error | undefined;

  static async create(source: Readable, tmpDir = tmpdir()): Promise<UploadSpool> {
    const dir = await mkdtemp(join(tmpDir, 'tart-upload-'));
    const path = join(dir, 'body');
    const file = await open(path, 'wx', 0o600);
    return new UploadSpool(source, dir, path, file);
  }

  private constructor(source: Readable, dir: string, path: string, file: FileHandle) {
    this.#source = source;
    this.#dir = dir;
    this.#path = path;
    this.#file = file;
  }

  /** Bytes read from the source so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Why reading the source failed, once it has. */
  get sourceError(): Error | undefined {
    return this.#sourceError;
  }

  /** The first attempt's body: the source itself, recorded on the way. Call once. */
  first(): Readable {
    const live = new PassThrough();
    this.#live = live;
    this.#drained = this.#drain();
    // A failed drain must not surface as an unhandled rejection; replay() reports it.
    this.#drained.catch((error: unknown) => {
      this.#sourceError = error instanceof Error ? error : new Error(String(error));
      live.destroy(this.#sourceError);
    });
    return live;
  }

  /** A later attempt's body: the whole recorded source once it has been read to the end. Rejects if the source failed. */
  async replay(): Promise<Readable> {
    this.#live?.destroy();
    await this.#drained;
    return createReadStream(this.#path);
  }

  /** Stops reading the source (if it is still producing) and removes the temp file. */
  async dispose(): Promise<void> {
    this.#live?.destroy();
    if (!this.#source.readableEnded) this.#source.destroy();
    await this.#drained?.catch(() => undefined);
    await this.#file.close().catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }

  // The only reader of the source: every chunk goes to the file, and to the live attempt while it lasts.
  async #drain(): Promise<void> {
    for await (const chunk of this.#source as AsyncIterable<Buffer>) {
      await this.#file.write(chunk, 0, chunk.length, this.#bytes);
      this.#bytes += chunk.length;
      const live = this.#live;
      if (live && !live.destroyed && !live.write(chunk)) await drainedOrClosed(live);
    }
    this.#live?.end();
  }
}

function drainedOrClosed(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
