// Converts a tar stream (read out of the job environment) into a zip stream, entry by entry,
// without touching disk. Zip layout as gitlab-runner's archiver writes it: UTF-8 names,
// `dir/` entries, symlinks stored as their target text, Unix type+mode in the external
// attributes, mtime in the 0x5455 extra field (yazl). The only importer of yazl.
import type { Readable, Writable } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';
import yazl from 'yazl';
import { TartError } from '../errors.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export interface ZipFromTarOptions {
  /** zlib level 0–9; 0 stores. Default 6 (gitlab-runner's "default"). */
  compressionLevel?: number;
}

/**
 * The zip of every entry in `tar`. The returned stream errors when the tar stream errors or
 * holds an entry that cannot be archived safely (absolute or `..` names, hard links).
 */
export function zipFromTar(tar: Readable, options: ZipFromTarOptions = {}): Readable {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as Readable;
  const entries = tarExtract();
  tar.on('error', (error) => entries.destroy(error));
  // tar-stream is built on streamx, which takes pipes from Node streams.
  tar.pipe(entries as unknown as Writable);
  // A consumer that gives up must stop the command producing the tar.
  output.on('close', () => {
    if (!output.readableEnded) tar.destroy();
  });
  copyEntries(entries as unknown as AsyncIterable<TarEntry>, zip, options.compressionLevel ?? 6).then(
    () => zip.end(),
    (error: unknown) => {
      tar.destroy();
      output.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  );
  return output;
}

// Feeds tar entries to yazl one at a time; each data stream is read by yazl before the next.
async function copyEntries(
  entries: AsyncIterable<TarEntry>,
  zip: yazl.ZipFile,
  compressionLevel: number,
): Promise<void> {
  for await (const entry of entries) {
    const header = entry.header;
    const name = entryName(header.name);
    const options = { mtime: header.mtime ?? new Date(), mode: (header.mode ?? 0) & 0o7777 };
    switch (header.type) {
      case 'directory':
        if (name !== '') zip.addEmptyDirectory(name, { ...options, mode: S_IFDIR | options.mode });
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file':
        zip.addReadStreamLazy(
          name,
          { ...options, mode: S_IFREG | options.mode, size: header.size ?? 0, compressionLevel },
          (callback) => callback(null, entry),
        );
        break;
      case 'symlink':
        zip.addBuffer(Buffer.from(header.linkname ?? '', 'utf8'), name, {
          ...options,
          mode: S_IFLNK | (options.mode || 0o777),
          compress: false,
        });
        entry.resume();
        break;
      case 'link':
        throw new TartError(
          'ARCHIVE_UNSUPPORTED_ENTRY',
          `hard link ${header.name} in the file stream (tar must dereference hard links)`,
        );
      default:
        // Devices and fifos are not archived, as in gitlab-runner.
        entry.resume();
    }
    await entryConsumed(entry);
  }
}

// streamx entry: done once its data was read to the end (by yazl or by resume()).
type TarEntry = Readable & { header: Header };

function entryConsumed(entry: TarEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    if (entry.readableEnded) resolve();
    entry.once('end', resolve);
    entry.once('close', resolve);
    entry.once('error', reject);
  });
}

// Tar names are relative, `dir/` for directories; zip names drop `./` and the trailing slash
// (yazl adds it back for directories). yazl itself rejects absolute and `..` names.
function entryName(tarName: string): string {
  return tarName.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}
