// Reads a whole tar stream back into memory with tar-stream, for asserting on what a writer made.
import { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';

export interface TarEntry {
  /** The header's type: `file`, `directory`, `symlink`, … */
  type: Header['type'];
  mode: number;
  body: Buffer;
}

/** Every entry of the tar in `source` (a stream or the whole archive), by name, in archive order. */
export async function readTar(source: Readable | Buffer): Promise<Map<string, TarEntry>> {
  const stream = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  const entries = new Map<string, TarEntry>();
  const reader = extract();
  reader.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    body.on('end', () => {
      entries.set(header.name, { type: header.type, mode: header.mode ?? 0, body: Buffer.concat(chunks) });
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) => {
    reader.on('finish', resolve);
    reader.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(reader);
  await finished;
  return entries;
}
