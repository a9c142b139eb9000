// Turns a zip archive on the host (a dependency's artifacts, a cache) into a tar stream for
// copyTarIn. Every entry is validated before the first byte of tar is produced, so an unsafe
// archive writes nothing at all. The host never extracts anything. The only importer of yauzl.
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import yauzl from 'yauzl';
import { TartError } from '../errors.js';
import { crc32 } from '../gitlab/crc32.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;
const MAX_SYMLINK_TARGET = 4096;
const STORED = 0;
const DEFLATED = 8;
const INFLATE_CHUNK_SIZE = 1024 * 1024;
const READ_CHUNK_SIZE = 1024 * 1024;
const LOCAL_HEADER_SIZE = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
/**
 * More entries than this are refused before any is read: each costs a tar header (512 bytes) and
 * a file in the environment even when empty, so a zip of millions of empty entries would stream
 * for minutes. Far above real artifacts (a large node_modules is a few hundred thousand files).
 */
export const MAX_ARCHIVE_ENTRIES = 1_000_000;

/** One validated zip entry, as it will be written into the tar stream. */
export interface PlannedEntry {
  /** Project-relative, normalised, without a trailing slash. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: Date;
  size: number;
  linkTarget?: string;
  source: yauzl.Entry;
}

export interface ZipAsTar {
  entries: PlannedEntry[];
  /** The tar stream; the zip is closed when it ends or fails. */
  tar: Readable;
}

/**
 * Opens `zipPath`, validates all entries against `projectDir` (the directory they will be
 * extracted into inside the environment) and returns the tar stream of them.
 * Throws TartError ARTIFACT_UNSAFE_ENTRY, ARCHIVE_INVALID or ARCHIVE_TOO_MANY_ENTRIES before any output.
 */
export async function openZipAsTar(input: {
  zipPath: string;
  projectDir: string;
  maxEntries?: number;
}): Promise<ZipAsTar> {
  const zip = await openZip(input.zipPath);
  try {
    const maxEntries = input.maxEntries ?? MAX_ARCHIVE_ENTRIES;
    if (zip.entryCount > maxEntries) {
      throw new TartError(
        'ARCHIVE_TOO_MANY_ENTRIES',
        `the archive has ${zip.entryCount} entries, more than the ${maxEntries} Tart extracts`,
        { details: { entries: zip.entryCount, maxEntries } },
      );
    }
    const entries = await readPlan(zip);
    checkEntriesStayInside(entries, input.projectDir);
    return { entries, tar: packEntries(zip, input.zipPath, entries) };
  } catch (error) {
    zip.close();
    throw error;
  }
}

async function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(zipPath, { lazyEntries: true, decodeStrings: false, autoClose: false });
  } catch (error) {
    throw new TartError('ARCHIVE_INVALID', `not a valid zip archive: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

// Reads the central directory (and symlink targets) into a plan; names checked one by one.
async function readPlan(zip: yauzl.ZipFile): Promise<PlannedEntry[]> {
  const entries: PlannedEntry[] = [];
  try {
    for await (const source of zip.eachEntry()) {
      const planned = await planEntry(zip, source);
      if (planned !== undefined) entries.push(planned);
    }
  } catch (error) {
    if (error instanceof TartError) throw error;
    throw new TartError('ARCHIVE_INVALID', `corrupt zip archive: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return entries;
}

async function planEntry(zip: yauzl.ZipFile, source: yauzl.Entry): Promise<PlannedEntry | undefined> {
  // Backslashes stay literal: on Linux they are ordinary name characters, not separators.
  const rawName = yauzl.getFileNameLowLevel(
    source.generalPurposeBitFlag,
    source.fileNameRaw,
    source.extraFields,
    true,
  );
  const name = safeEntryName(rawName);
  if (name === '') return undefined;
  if (
    source.isEncrypted() ||
    (source.compressionMethod !== STORED && source.compressionMethod !== DEFLATED)
  ) {
    throw new TartError(
      'ARCHIVE_INVALID',
      `zip entry ${name} uses an unsupported compression method or encryption`,
    );
  }
  const unixMode = source.versionMadeBy >> 8 === MADE_BY_UNIX ? source.externalFileAttributes >>> 16 : 0;
  const type = entryType(rawName, unixMode);
  const mode = unixMode & 0o7777 || (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
  const planned: PlannedEntry = {
    name,
    type,
    mode,
    mtime: source.getLastModDate({ timezone: 'UTC' }),
    size: type === 'file' ? source.uncompressedSize : 0,
    source,
  };
  if (type === 'symlink') planned.linkTarget = await readSymlinkTarget(zip, source, rawName);
  return planned;
}

/** Normalises an entry name; throws ARTIFACT_UNSAFE_ENTRY for absolute or `..` names. */
export function safeEntryName(rawName: string): string {
  if (rawName.includes('\0')) throw unsafe(rawName, 'the name contains a NUL byte');
  if (rawName.startsWith('/') || /^[A-Za-z]:[/\\]/.test(rawName)) throw unsafe(rawName, 'absolute path');
  const components = rawName.split('/').filter((component) => component !== '' && component !== '.');
  if (components.includes('..')) throw unsafe(rawName, 'the path contains ".."');
  return components.join('/');
}

function entryType(rawName: string, unixMode: number): PlannedEntry['type'] {
  if ((unixMode & S_IFMT) === S_IFLNK) return 'symlink';
  if ((unixMode & S_IFMT) === S_IFDIR || rawName.endsWith('/')) return 'directory';
  return 'file';
}

async function readSymlinkTarget(zip: yauzl.ZipFile, source: yauzl.Entry, rawName: string): Promise<string> {
  if (source.uncompressedSize > MAX_SYMLINK_TARGET) throw unsafe(rawName, 'symlink target too long');
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openReadStreamPromise(source)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Refuses symlinks whose target leaves the project dir (also through another symlink of the
 * archive followed by `..`) and entries placed under any symlink of the archive.
 */
export function checkEntriesStayInside(
  entries: Array<Pick<PlannedEntry, 'name' | 'type' | 'linkTarget'>>,
  projectDir: string,
): void {
  const symlinks = new Set(entries.filter((entry) => entry.type === 'symlink').map((entry) => entry.name));
  for (const entry of entries) {
    const parent = underSymlink(entry.name, symlinks);
    if (parent !== undefined) throw unsafe(entry.name, `it lies under the symlink ${parent}`);
    if (entry.type === 'symlink')
      checkSymlinkTarget(entry.name, entry.linkTarget ?? '', projectDir, symlinks);
  }
}

function underSymlink(name: string, symlinks: Set<string>): string | undefined {
  const components = name.split('/');
  for (let length = 1; length < components.length; length += 1) {
    const prefix = components.slice(0, length).join('/');
    if (symlinks.has(prefix)) return prefix;
  }
  return undefined;
}

// Resolves the target component by component, starting at the link's directory.
function checkSymlinkTarget(name: string, target: string, projectDir: string, symlinks: Set<string>): void {
  if (target === '' || target.includes('\0')) throw unsafe(name, 'empty or invalid symlink target');
  let relativeTarget = target;
  if (posix.isAbsolute(target)) {
    const inside = posix.relative(projectDir, posix.normalize(target));
    if (inside === '..' || inside.startsWith('../') || posix.isAbsolute(inside)) {
      throw unsafe(name, `symlink target ${target} is outside the project directory`);
    }
    relativeTarget = inside;
  }
  const resolved = posix.isAbsolute(target) ? [] : name.split('/').slice(0, -1);
  for (const component of relativeTarget.split('/')) {
    if (component === '' || component === '.') continue;
    if (component !== '..') {
      resolved.push(component);
      continue;
    }
    if (resolved.length === 0)
      throw unsafe(name, `symlink target ${target} is outside the project directory`);
    const through = resolved.join('/');
    if (symlinks.has(through))
      throw unsafe(name, `symlink target ${target} climbs out of the symlink ${through}`);
    resolved.pop();
  }
}

function unsafe(name: string, reason: string): TartError {
  return new TartError('ARTIFACT_UNSAFE_ENTRY', `refusing archive entry "${name}": ${reason}`, {
    details: { entry: name, reason },
  });
}

// Streams the planned entries into a tar pack, one zip entry at a time. Nothing is read from the
// zip before the consumer's first read: a caller may await other I/O before it starts reading,
// and an entry that fails (a CRC mismatch, a bomb) must fail the consumer's read with its reason
// rather than destroy a stream nobody listens to yet.
function packEntries(zip: yauzl.ZipFile, zipPath: string, entries: PlannedEntry[]): Readable {
  let pack: Pack | undefined;
  let zipClosed = false;
  const closeZip = (): void => {
    if (zipClosed) return;
    zipClosed = true;
    zip.close();
  };
  const output = new Readable({
    read() {
      if (pack === undefined) pack = startPack();
      else pack.resume();
    },
    destroy(error, callback) {
      if (pack === undefined) closeZip();
      else pack.destroy();
      callback(error);
    },
  });
  // Hand out a Node stream: tar-stream's own streams are streamx streams.
  const startPack = (): Pack => {
    const tar = tarPack();
    tar.on('data', (chunk: unknown) => {
      if (!output.push(chunk)) tar.pause();
    });
    tar.on('end', () => output.push(null));
    tar.on('error', (error: Error) => output.destroy(error));
    tar.on('close', closeZip);
    writeEntries(zip, zipPath, tar, entries).then(
      () => tar.finalize(),
      (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return tar;
  };
  return output;
}

async function writeEntries(
  zip: yauzl.ZipFile,
  zipPath: string,
  tar: Pack,
  entries: PlannedEntry[],
): Promise<void> {
  const file = await open(zipPath, 'r');
  try {
    for (const entry of entries) {
      const header = { name: entry.name, mode: entry.mode, mtime: entry.mtime };
      if (entry.type === 'directory') await addWithoutData(tar, { ...header, type: 'directory' });
      else if (entry.type === 'symlink')
        await addWithoutData(tar, { ...header, type: 'symlink', linkname: entry.linkTarget ?? '' });
      else {
        const data = await openVerifiedData(file, zip.fileSize, entry);
        await new Promise<void>((resolve, reject) => {
          const sink = tar.entry({ ...header, type: 'file', size: entry.size }, (error) =>
            error ? reject(error) : resolve(),
          );
          // The whole pack fails with the entry's reason (the sink has no listener of its own,
          // and a sink destroyed alone would fail the pack with a vaguer one).
          data.on('error', (error) => {
            tar.destroy(error);
            reject(error);
          });
          (sink as unknown as Writable).on('error', reject);
          data.pipe(sink as unknown as Writable);
        });
      }
    }
  } finally {
    await file.close();
  }
}

/**
 * The entry's bytes, read and inflated here rather than by yauzl so pieces are large (yauzl
 * reads 16 KiB at a time through three streams; here 1 MiB reads, fewer thread-pool round
 * trips) and the CRC-32 is checked (natively), which yauzl does not do.
 */
async function openVerifiedData(file: FileHandle, fileSize: number, entry: PlannedEntry): Promise<Readable> {
  const start = await entryDataStart(file, entry);
  const end = start + entry.source.compressedSize;
  if (end > fileSize) throw corrupt(entry, 'its data extends past the end of the archive');
  const raw = readRange(file, start, end);
  const verifier = verifying(entry);
  const onError = (error: Error): void => {
    verifier.destroy(error);
  };
  raw.on('error', onError);
  if (entry.source.compressionMethod === STORED) return raw.pipe(verifier);
  // Output buffers sized to the entry: a 1 MiB buffer per small entry is garbage the GC must chase.
  const chunkSize = Math.min(INFLATE_CHUNK_SIZE, entry.size + 1024);
  const inflate = createInflateRaw({ chunkSize });
  inflate.on('error', onError);
  return raw.pipe(inflate).pipe(verifier);
}

// Where the entry's data starts: after its local header, whose name and extra field lengths
// may differ from the central directory's.
async function entryDataStart(file: FileHandle, entry: PlannedEntry): Promise<number> {
  const offset = entry.source.relativeOffsetOfLocalHeader;
  const header = Buffer.allocUnsafe(LOCAL_HEADER_SIZE);
  const { bytesRead } = await file.read(header, 0, LOCAL_HEADER_SIZE, offset);
  if (bytesRead < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw corrupt(entry, 'invalid local file header');
  }
  return offset + LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
}

// The bytes [start, end) of the archive, in reads of up to READ_CHUNK_SIZE.
function readRange(file: FileHandle, start: number, end: number): Readable {
  let position = start;
  return new Readable({
    highWaterMark: READ_CHUNK_SIZE,
    read() {
      if (position >= end) {
        this.push(null);
        return;
      }
      const length = Math.min(READ_CHUNK_SIZE, end - position);
      file.read(Buffer.allocUnsafe(length), 0, length, position).then(
        ({ bytesRead, buffer }) => {
          if (bytesRead === 0)
            return this.destroy(new TartError('ARCHIVE_INVALID', 'the archive is truncated'));
          position += bytesRead;
          this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}

// Passes data through, failing when it outgrows the declared size or its CRC-32 is wrong.
function verifying(entry: PlannedEntry): Transform {
  let size = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > entry.size) return callback(corrupt(entry, 'more data than its declared size'));
      crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      if (size !== entry.size) return callback(corrupt(entry, `${size} bytes instead of ${entry.size}`));
      if (crc !== entry.source.crc32) return callback(corrupt(entry, 'CRC-32 mismatch'));
      callback();
    },
  });
}

function corrupt(entry: PlannedEntry, reason: string): TartError {
  return new TartError('ARCHIVE_INVALID', `corrupt zip entry ${entry.name}: ${reason}`);
}

function addWithoutData(tar: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry(header, (error) => (error ? reject(error) : resolve()));
  });
}
