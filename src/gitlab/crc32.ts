// CRC-32 (IEEE, zlib's polynomial 0xEDB88320), updated incrementally: the trace checksum GitLab
// expects (protocol reference §4.5), and the CRC of zip entries and gzip members (src/artifacts).
// Node has a native one from 20.15 (`zlib.crc32`, zlib's own SIMD code); package.json allows 20.12,
// so older Nodes get the table-driven one, some 10x slower but with the same values.
import zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous?: number) => number;

let table: Uint32Array | undefined;

/** The table-driven CRC-32, continuing from `previous`; exported so tests compare it with the native one. */
export function tableCrc32(data: Uint8Array, previous = 0): number {
  table ??= buildTable();
  let crc = ~previous >>> 0;
  for (let index = 0; index < data.length; index += 1) crc = (table[(crc ^ (data[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The CRC-32 of everything so far (`previous`, 0 to start) followed by `data`; native when Node has it. */
export const crc32: Crc32 = (zlib as { crc32?: Crc32 }).crc32 ?? tableCrc32;

/** `crc32:` + 8 lower-case hex digits, as GitLab expects in `output.checksum`. */
export function formatChecksum(crc: number): string {
  return `crc32:${(crc >>> 0).toString(16).padStart(8, '0')}`;
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
