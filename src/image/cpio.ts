// A cpio "newc" (SVR4, no CRC) archive writer: the format the kernel unpacks as an initramfs.
// Pure: entries in, bytes out. Ownership is always root (uid/gid 0) and mtime fixed, so the
// archive is reproducible from its entries.

export type CpioEntry =
  | { kind: 'directory'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const TYPE_BITS = { directory: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;
const DEFAULT_MODE = { directory: 0o755, file: 0o644, symlink: 0o777, chardev: 0o600 } as const;
const TRAILER = 'TRAILER!!!';

/** Encodes entries (in the given order; parents before children) into one newc archive. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  let inode = 1;
  const push = (buffer: Buffer): void => {
    parts.push(buffer);
    offset += buffer.length;
  };
  for (const entry of entries) {
    const body = entryBody(entry);
    const header = encodeHeader({
      inode: inode++,
      mode: TYPE_BITS[entry.kind] | modeOf(entry),
      fileSize: body.length,
      rdevMajor: entry.kind === 'chardev' ? entry.major : 0,
      rdevMinor: entry.kind === 'chardev' ? entry.minor : 0,
      name: normalizePath(entry.path),
    });
    push(header);
    push(padding(offset));
    push(body);
    push(padding(offset));
  }
  push(encodeHeader({ inode: 0, mode: 0, fileSize: 0, rdevMajor: 0, rdevMinor: 0, name: TRAILER, nlink: 1 }));
  push(padding(offset));
  return Buffer.concat(parts);
}

/** Adds the parent directories each path needs (e.g. lib, lib/modules for lib/modules/x.ko). */
export function withParentDirectories(entries: readonly CpioEntry[]): CpioEntry[] {
  const seen = new Set<string>();
  const result: CpioEntry[] = [];
  for (const entry of entries) {
    const path = normalizePath(entry.path);
    const segments = path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      if (!seen.has(parent)) {
        seen.add(parent);
        result.push({ kind: 'directory', path: parent });
      }
    }
    if (seen.has(path)) continue;
    seen.add(path);
    result.push({ ...entry, path });
  }
  return result;
}

interface HeaderFields {
  inode: number;
  mode: number;
  fileSize: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
  nlink?: number;
}

// 110-byte ASCII header: magic + 13 eight-digit hex fields, then the NUL-terminated name.
function encodeHeader(fields: HeaderFields): Buffer {
  const nameBytes = Buffer.from(`${fields.name}\0`, 'utf8');
  const isDirectory = (fields.mode & 0o170000) === TYPE_BITS.directory;
  const values = [
    fields.inode,
    fields.mode,
    0, // uid
    0, // gid
    fields.nlink ?? (isDirectory ? 2 : 1),
    0, // mtime: fixed for reproducible archives
    fields.fileSize,
    0, // devmajor
    0, // devminor
    fields.rdevMajor,
    fields.rdevMinor,
    nameBytes.length,
    0, // check
  ];
  const ascii = '070701' + values.map((value) => hex8(value)).join('');
  return Buffer.concat([Buffer.from(ascii, 'ascii'), nameBytes]);
}

function entryBody(entry: CpioEntry): Buffer {
  if (entry.kind === 'file') return entry.data;
  if (entry.kind === 'symlink') return Buffer.from(entry.target, 'utf8');
  return Buffer.alloc(0);
}

function modeOf(entry: CpioEntry): number {
  if (entry.kind === 'symlink') return DEFAULT_MODE.symlink;
  return (entry.mode ?? DEFAULT_MODE[entry.kind]) & 0o7777;
}

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, '0');
}

// Header+name and file data are each padded to a 4-byte boundary.
function padding(offset: number): Buffer {
  return Buffer.alloc((4 - (offset % 4)) % 4);
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => part === '..' || part === '' || part === '.')) {
    throw new RangeError(`invalid cpio path: ${JSON.stringify(path)}`);
  }
  return trimmed;
}
