// CRC-32 (zlib's polynomial) for zip entries and gzip members. Node has a native one from 20.15
// (`zlib.crc32`, zlib's own SIMD code); package.json allows 20.12, so older Nodes get a
// table-driven JavaScript one, which is some 10x slower but gives the same values.
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous?: number) => number;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1) {
    let value = index;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

/** The JavaScript CRC-32, continuing from `previous`; exported so tests compare it with the native one. */
export function crc32InJavaScript(data: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let index = 0; index < data.length; index += 1)
    crc = (CRC_TABLE[(crc ^ (data[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: Crc32 }).crc32;

/** CRC-32 of `data` continuing from `previous` (0 to start); native when Node has it. */
export const crc32: Crc32 = nativeCrc32 ?? crc32InJavaScript;

/** Whether `crc32` is Node's native one. */
export const crc32IsNative = nativeCrc32 !== undefined;
