// The byte layout of the zip records Tart writes (PKWARE APPNOTE 6.3), laid out as yazl did so
// the archives read the same to gitlab-runner, GitLab's Workhorse and Info-ZIP: UTF-8 names
// (flag 0x800); file data followed by a data descriptor (flag 0x08, sizes known only after
// compression); the mtime as a DOS time in local time plus an extended-timestamp extra field
// 0x5455 (UTC mtime) in the central directory; Unix type+mode in the external attributes; zip64
// fields only where a size or an offset does not fit 32 bits, or for 65,535 entries or more.

/** What the central directory needs to know about one written entry. */
export interface ZipEntryRecord {
  /** UTF-8 name; directories end with `/`. */
  name: Buffer;
  /** Unix type and permission bits (st_mode). */
  mode: number;
  mtime: Date;
  method: typeof STORED | typeof DEFLATED;
  /** Whether the data is followed by a data descriptor (files); otherwise the local header holds it. */
  hasDataDescriptor: boolean;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

export const STORED = 0;
export const DEFLATED = 8;

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const END_SIGNATURE = 0x06054b50;
const VERSION_MADE_BY = (3 << 8) | 63; // Unix, APPNOTE 6.3
const VERSION_NEEDED = 20;
const VERSION_NEEDED_ZIP64 = 45;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const EXTENDED_TIMESTAMP = 0x5455;
const ZIP64_EXTRA = 0x0001;
/** Sizes and offsets above this go into zip64 fields (0xffffffff itself means "see zip64"). */
const MAX_32 = 0xfffffffe;
const MAX_ENTRIES_16 = 0xfffe;

/** Whether the entry needs zip64 fields: a size or its offset beyond 32 bits. */
export function needsZip64(
  entry: Pick<ZipEntryRecord, 'compressedSize' | 'uncompressedSize' | 'localHeaderOffset'>,
): boolean {
  return entry.uncompressedSize > MAX_32 || entry.compressedSize > MAX_32 || entry.localHeaderOffset > MAX_32;
}

/** The local file header; CRC and sizes are zero when a data descriptor follows the data. */
export function localFileHeader(entry: Omit<ZipEntryRecord, 'localHeaderOffset'>): Buffer {
  const header = zeroed(30 + entry.name.length);
  const known = !entry.hasDataDescriptor;
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(flags(entry), 6);
  header.writeUInt16LE(entry.method, 8);
  writeDosDateTime(header, entry.mtime, 10);
  header.writeUInt32LE(known ? entry.crc : 0, 14);
  header.writeUInt32LE(known ? entry.compressedSize : 0, 18);
  header.writeUInt32LE(known ? entry.uncompressedSize : 0, 22);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  entry.name.copy(header, 30);
  return header;
}

/** The data descriptor after an entry's data: 8-byte sizes when the entry needs zip64. */
export function dataDescriptor(entry: ZipEntryRecord): Buffer {
  const zip64 = needsZip64(entry);
  const descriptor = zeroed(zip64 ? 24 : 16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR_SIGNATURE, 0);
  descriptor.writeUInt32LE(entry.crc, 4);
  if (zip64) {
    descriptor.writeBigUInt64LE(BigInt(entry.compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(entry.uncompressedSize), 16);
  } else {
    descriptor.writeUInt32LE(entry.compressedSize, 8);
    descriptor.writeUInt32LE(entry.uncompressedSize, 12);
  }
  return descriptor;
}

/** The entry's central directory record, with the 0x5455 mtime field and zip64 fields if needed. */
export function centralDirectoryRecord(entry: ZipEntryRecord): Buffer {
  const zip64 = needsZip64(entry);
  const extraLength = 9 + (zip64 ? 28 : 0);
  const record = zeroed(46 + entry.name.length + extraLength);
  record.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  record.writeUInt16LE(VERSION_MADE_BY, 4);
  record.writeUInt16LE(zip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 6);
  record.writeUInt16LE(flags(entry), 8);
  record.writeUInt16LE(entry.method, 10);
  writeDosDateTime(record, entry.mtime, 12);
  record.writeUInt32LE(entry.crc, 16);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.compressedSize, 20);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.uncompressedSize, 24);
  record.writeUInt16LE(entry.name.length, 28);
  record.writeUInt16LE(extraLength, 30);
  // comment length, disk number start, internal attributes: 0
  record.writeUInt32LE((entry.mode << 16) >>> 0, 38);
  record.writeUInt32LE(zip64 ? 0xffffffff : entry.localHeaderOffset, 42);
  let offset = entry.name.copy(record, 46) + 46;
  // Extended timestamp: flags say mtime and atime (as Info-ZIP writes it), the central copy holds mtime only.
  offset = record.writeUInt16LE(EXTENDED_TIMESTAMP, offset);
  offset = record.writeUInt16LE(5, offset);
  offset = record.writeUInt8(0x03, offset);
  offset = record.writeInt32LE(unixSeconds(entry.mtime), offset);
  if (zip64) {
    offset = record.writeUInt16LE(ZIP64_EXTRA, offset);
    offset = record.writeUInt16LE(24, offset);
    offset = record.writeBigUInt64LE(BigInt(entry.uncompressedSize), offset);
    offset = record.writeBigUInt64LE(BigInt(entry.compressedSize), offset);
    record.writeBigUInt64LE(BigInt(entry.localHeaderOffset), offset);
  }
  return record;
}

/**
 * The end of the archive: zip64 end record and locator when the entry count, the central
 * directory's size or its offset do not fit, then the classic end record.
 */
export function endOfCentralDirectory(input: {
  entryCount: number;
  centralDirectoryOffset: number;
  centralDirectorySize: number;
}): Buffer {
  const { entryCount, centralDirectoryOffset, centralDirectorySize } = input;
  const manyEntries = entryCount > MAX_ENTRIES_16;
  const bigSize = centralDirectorySize > MAX_32;
  const bigOffset = centralDirectoryOffset > MAX_32;
  const end = zeroed(22);
  end.writeUInt32LE(END_SIGNATURE, 0);
  // disk numbers: 0
  end.writeUInt16LE(manyEntries ? 0xffff : entryCount, 8);
  end.writeUInt16LE(manyEntries ? 0xffff : entryCount, 10);
  end.writeUInt32LE(bigSize ? 0xffffffff : centralDirectorySize, 12);
  end.writeUInt32LE(bigOffset ? 0xffffffff : centralDirectoryOffset, 16);
  // comment length: 0
  if (!manyEntries && !bigSize && !bigOffset) return end;

  const zip64End = zeroed(56);
  zip64End.writeUInt32LE(ZIP64_END_SIGNATURE, 0);
  zip64End.writeBigUInt64LE(44n, 4); // size of the rest of this record
  zip64End.writeUInt16LE(VERSION_MADE_BY, 12);
  zip64End.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
  // disk numbers: 0
  zip64End.writeBigUInt64LE(BigInt(entryCount), 24);
  zip64End.writeBigUInt64LE(BigInt(entryCount), 32);
  zip64End.writeBigUInt64LE(BigInt(centralDirectorySize), 40);
  zip64End.writeBigUInt64LE(BigInt(centralDirectoryOffset), 48);
  const locator = zeroed(20);
  locator.writeUInt32LE(ZIP64_LOCATOR_SIGNATURE, 0);
  // the zip64 end record starts right after the central directory
  locator.writeBigUInt64LE(BigInt(centralDirectoryOffset + centralDirectorySize), 8);
  locator.writeUInt32LE(1, 16); // total number of disks
  return Buffer.concat([zip64End, locator, end]);
}

function flags(entry: Pick<ZipEntryRecord, 'hasDataDescriptor'>): number {
  return FLAG_UTF8 | (entry.hasDataDescriptor ? FLAG_DATA_DESCRIPTOR : 0);
}

// Extended timestamps are signed 32-bit seconds: clamped to 1901–2038 as Info-ZIP and yazl do.
function unixSeconds(date: Date): number {
  return Math.min(0x7fffffff, Math.max(-0x80000000, Math.floor(date.getTime() / 1000)));
}

const MIN_DOS_DATE = new Date(1980, 0, 1);
const MAX_DOS_DATE = new Date(2107, 11, 31, 23, 59, 58);

// DOS time and date (local time, 2-second steps, 1980–2107), clamped like yazl.
function writeDosDateTime(buffer: Buffer, date: Date, offset: number): void {
  const clamped = date < MIN_DOS_DATE ? MIN_DOS_DATE : date > MAX_DOS_DATE ? MAX_DOS_DATE : date;
  const time = (clamped.getHours() << 11) | (clamped.getMinutes() << 5) | (clamped.getSeconds() >> 1);
  const day = ((clamped.getFullYear() - 1980) << 9) | ((clamped.getMonth() + 1) << 5) | clamped.getDate();
  buffer.writeUInt16LE(time, offset);
  buffer.writeUInt16LE(day, offset + 2);
}

// A zero-filled buffer from Node's shared pool: records are small and many, and one ArrayBuffer
// each (Buffer.alloc) is work for the garbage collector.
function zeroed(size: number): Buffer {
  return Buffer.allocUnsafe(size).fill(0);
}
