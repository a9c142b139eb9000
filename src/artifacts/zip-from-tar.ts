// Converts a tar stream (read out of the job environment) into a zip stream, entry by entry,
// without touching disk. Zip layout as gitlab-runner's archiver writes it: UTF-8 names,
// `dir/` entries, symlinks stored as their target text, Unix type+mode in the external
// attributes, mtime in the 0x5455 extra field (zip-records.ts); entries compressed in parallel
// (zip-writer.ts).
import type { Readable, Writable } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';
import { TartError } from '../errors.js';
import { DEFAULT_COMPRESSION_LEVEL } from './compression-level.js';
import { zipWriter, type ZipWriterEntry } from './zip-writer.js';

export interface ZipFromTarOptions {
  /** zlib level 0–9; 0 stores. Default 5 (fastzip's "default"). */
  compressionLevel?: number;
  /** Entries compressing ahead of the one being written (default: CPUs + 2). */
  readAhead?: number;
}

/**
 * The zip of every entry in `tar`. The returned stream errors when the tar stream errors or
 * holds an entry that cannot be archived safely (absolute or `..` names, hard links).
 */
export function zipFromTar(tar: Readable, options: ZipFromTarOptions = {}): Readable {
  const extract = tarExtract();
  // The iterator is taken before any byte flows: tar-stream hands an entry only to the
  // listeners present when it is parsed.
  const iterator = (extract as unknown as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
  tar.on('error', (error) => extract.destroy(error));
  let piped = false;
  const entries = zipEntries({
    [Symbol.asyncIterator]: () => {
      // tar-stream is built on streamx, which takes pipes from Node streams.
      if (!piped) tar.pipe(extract as unknown as Writable);
      piped = true;
      return iterator;
    },
  });
  const output = zipWriter(entries, {
    compressionLevel: options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL,
    readAhead: options.readAhead,
  });
  // A consumer that gives up, or an archive that fails, must stop the command producing the tar.
  output.on('close', () => {
    if (!output.readableEnded) {
      tar.destroy();
      extract.destroy();
    }
  });
  return output;
}

// streamx entry: its header and its data.
type TarEntry = Readable & { header: Header };

// Zip entries of the tar entries, in tar order; a file's data is its tar entry stream.
async function* zipEntries(entries: AsyncIterable<TarEntry>): AsyncGenerator<ZipWriterEntry> {
  for await (const entry of entries) {
    const header = entry.header;
    const common = {
      name: entryName(header.name),
      mtime: header.mtime ?? new Date(),
      mode: (header.mode ?? 0) & 0o7777,
    };
    switch (header.type) {
      case 'directory':
        await drain(entry);
        if (common.name !== '') yield { ...common, kind: 'directory' };
        break;
      case 'file':
      case 'contiguous-file':
        checkName(common.name, header.name);
        // The writer reads the data to its end before it asks for the next entry.
        yield { ...common, kind: 'file', size: header.size ?? 0, data: entry };
        break;
      case 'symlink':
        checkName(common.name, header.name);
        await drain(entry);
        yield { ...common, kind: 'symlink', mode: common.mode || 0o777, target: header.linkname ?? '' };
        break;
      case 'link':
        throw new TartError(
          'ARCHIVE_UNSUPPORTED_ENTRY',
          `hard link ${header.name} in the file stream (tar must dereference hard links)`,
        );
      default:
        // Devices and fifos are not archived, as in gitlab-runner.
        await drain(entry);
    }
  }
}

function drain(entry: TarEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    entry.once('end', resolve);
    entry.once('close', resolve);
    entry.once('error', reject);
    entry.resume();
  });
}

// Tar names are relative, `dir/` for directories; zip names drop `./` and the trailing slash
// (the writer adds it back for directories). Backslashes become slashes, as yazl did.
function entryName(tarName: string): string {
  const name = tarName
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  if (name === '.') return '';
  checkName(name, tarName);
  return name;
}

// Absolute and `..` names could be written outside the extraction dir: refused (yazl did too).
function checkName(name: string, tarName: string): void {
  if (name === '' && !tarName.endsWith('/')) {
    throw new TartError('ARCHIVE_UNSAFE_ENTRY', `empty entry name in the file stream: "${tarName}"`);
  }
  if (/^[a-zA-Z]:/.test(name) || name.startsWith('/') || name.split('/').includes('..')) {
    throw new TartError('ARCHIVE_UNSAFE_ENTRY', `unsafe entry name in the file stream: ${tarName}`);
  }
}
