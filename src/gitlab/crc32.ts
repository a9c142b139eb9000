// CRC-32 (IEEE, zlib's polynomial 0xEDB88320), updated incrementally (protocol reference §4.5).
import zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous: number) => number;

// zlib.crc32 exists from Node 20.15; older 20.x get the table implementation.
const native = (zlib as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

/** The CRC-32 of everything so far (`previous`) followed by `data`. Start with 0. */
export function crc32Update(previous: number, data: Uint8Array): number {
  return native ? native(data, previous) : tableCrc32(data, previous);
}

/** `crc32:` + 8 lower-case hex digits, as GitLab expects in `output.checksum`. */
export function formatChecksum(crc: number): string {
  return `crc32:${(crc >>> 0).toString(16).padStart(8, '0')}`;
}

export function tableCrc32(data: Uint8Array, previous: number): number {
  table ??= buildTable();
  let crc = ~previous >>> 0;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

function buildTable(): Uint32Array {
  const result = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    result[n] = c >>> 0;
  }
  return result;
}
