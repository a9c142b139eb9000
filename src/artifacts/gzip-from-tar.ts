// The `gzip` artifact format (reports such as junit, dotenv): one gzip member per regular file,
// concatenated, each header carrying Name = base name, Comment = relative path, MTIME = the
// file's mtime (protocol ref §6.1). Node's gzip writer cannot set those header fields, so the
// header and trailer are written here around a raw deflate stream.
import { posix } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { crc32 } from '../gitlab/crc32.js';
import { extract as tarExtract, type Header } from 'tar-stream';


const FLAG_NAME = 0x08;
const FLAG_COMMENT = 0x10;
const OS_UNIX = 3;

/** Concatenated gzip members of the regular files in `tar`, in tar order. */
export function gzipMembersFromTar(tar: Readable): Readable {
  const entries = tarExtract();
  // The iterator is taken before any byte flows: tar-stream hands an entry only to the
  // listeners present when it is parsed, so a consumer that reads late would lose the first
  // entry and leave the extract waiting on it forever.
  const iterator = (entries as unknown as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
  tar.on('error', (error) => entries.destroy(error));
  tar.pipe(entries as unknown as Writable);
  const output = Readable.from(members({ [Symbol.asyncIterator]: () => iterator }));
  output.on('close', () => {
    if (!output.readableEnded) tar.destroy();
  });
  return output;
}

type TarEntry = Readable & { header: Header };

async function* members(entries: AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
      entry.resume();
      continue;
    }
    yield memberHeader(entry.header);
    const checksum = { crc: 0, size: 0 };
    const deflate = zlib.createDeflateRaw();
    const counter = counting(checksum);
    entry.on('error', (error) => deflate.destroy(error));
    entry.pipe(counter).pipe(deflate);
    for await (const chunk of deflate) yield chunk as Buffer;
    yield memberTrailer(checksum.crc, checksum.size);
  }
}

// Passes data through while keeping the CRC-32 and length the gzip trailer needs.
function counting(checksum: { crc: number; size: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      checksum.crc = crc32(chunk, checksum.crc);
      checksum.size += chunk.length;
      callback(null, chunk);
    },
  });
}

/** RFC 1952 member header with FNAME and FCOMMENT. */
export function memberHeader(header: Pick<Header, 'name' | 'mtime'>): Buffer {
  const relative = header.name.replace(/^(\.\/)+/, '');
  const fixed = Buffer.alloc(10);
  fixed[0] = 0x1f;
  fixed[1] = 0x8b;
  fixed[2] = 8; // deflate
  fixed[3] = FLAG_NAME | FLAG_COMMENT;
  fixed.writeUInt32LE(Math.max(0, Math.floor((header.mtime?.getTime() ?? 0) / 1000)) >>> 0, 4);
  fixed[8] = 0;
  fixed[9] = OS_UNIX;
  return Buffer.concat([fixed, latin1Field(posix.basename(relative)), latin1Field(relative)]);
}

function memberTrailer(crc: number, size: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return trailer;
}

// Header strings are ISO-8859-1 and NUL-terminated; other names go as `e:` + URL path escape.
function latin1Field(text: string): Buffer {
  const plain = /^[\x20-\x7e]*$/.test(text) && !text.includes('%');
  return Buffer.from(`${plain ? text : `e:${pathEscape(text)}`}\0`, 'latin1');
}

// Go's url.PathEscape: keeps unreserved characters and `$&+,:;=@`.
function pathEscape(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~$&+,:;=@]/.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}
