// Extracts the uncompressed ELF vmlinux from an x86 bzImage: released Firecracker (≤ 1.16) boots
// only ELF kernels on x86_64. The boot-protocol setup header says exactly where the compressed
// payload is (reference firecracker.md §2.5), so no magic scanning is needed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TartError } from '../errors.js';
import { runChecked, type CommandRunner } from './spawn.js';

export type KernelCompression = 'gzip' | 'xz' | 'bzip2' | 'lzma' | 'lzo' | 'lz4' | 'zstd';

export interface BzImagePayload {
  compression: KernelCompression;
  /** Byte offset of the compressed payload inside the bzImage. */
  offset: number;
  length: number;
  bootProtocol: string;
}

export interface ElfKernelInfo {
  /** True when the ELF carries XEN_ELFNOTE_PHYS32_ENTRY: Firecracker ≥ 1.12 boots it via PVH. */
  hasPvhNote: boolean;
  entry: bigint;
}

// Same magics, same order as the kernel's scripts/extract-vmlinux.
const MAGICS: ReadonlyArray<[KernelCompression, number[]]> = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00, 0x00, 0x00]],
  ['lzo', [0x89, 0x4c, 0x5a]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

// CLI decompressors for what Node's zlib cannot do; each reads `in` and writes `out`.
const DECOMPRESSORS: Partial<
  Record<KernelCompression, (input: string, output: string) => [string, string[]]>
> = {
  lz4: (input, output) => ['lz4', ['-d', '-f', '-q', input, output]],
  xz: (input, output) => ['sh', ['-c', 'xz -dc -- "$1" > "$2"', 'xz', input, output]],
  zstd: (input, output) => ['zstd', ['-d', '-f', '-q', input, '-o', output]],
  bzip2: (input, output) => ['sh', ['-c', 'bzip2 -dc -- "$1" > "$2"', 'bzip2', input, output]],
};

const PVH_NOTE_TYPE = 0x12; // XEN_ELFNOTE_PHYS32_ENTRY
const PT_NOTE = 4;

/** Reads the setup header and locates the compressed kernel. */
export function locateBzImagePayload(bzImage: Buffer): BzImagePayload {
  if (bzImage.length < 0x250 || bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new TartError('IMAGE_NOT_BZIMAGE', 'kernel is not an x86 bzImage (no "HdrS" setup header)');
  }
  const protocol = bzImage.readUInt16LE(0x206);
  if (protocol < 0x208) {
    throw new TartError(
      'IMAGE_NOT_BZIMAGE',
      `boot protocol ${protocol.toString(16)} has no payload_offset (needs ≥ 2.08)`,
    );
  }
  const setupSectors = bzImage[0x1f1] || 4;
  const offset = (setupSectors + 1) * 512 + bzImage.readUInt32LE(0x248);
  const length = bzImage.readUInt32LE(0x24c);
  if (offset + length > bzImage.length) {
    throw new TartError('IMAGE_NOT_BZIMAGE', 'bzImage payload extends past the end of the file');
  }
  const compression = MAGICS.find(([, magic]) => magic.every((byte, i) => bzImage[offset + i] === byte))?.[0];
  if (!compression)
    throw new TartError('IMAGE_NOT_BZIMAGE', 'unknown kernel compression at the payload offset');
  return { compression, offset, length, bootProtocol: `${protocol >> 8}.${protocol & 0xff}` };
}

/** Decompresses the payload of `bzImage` to an ELF vmlinux and checks it. */
export async function extractVmlinux(options: {
  bzImage: Buffer;
  run: CommandRunner;
  signal?: AbortSignal;
}): Promise<{
  vmlinux: Buffer;
  payload: BzImagePayload;
  elf: ElfKernelInfo;
}> {
  const payload = locateBzImagePayload(options.bzImage);
  const raw = options.bzImage.subarray(payload.offset, payload.offset + payload.length);
  // Except for gzip, the kernel build appends the uncompressed size (u32 LE) after the stream.
  const hasSizeTrailer = payload.compression !== 'gzip';
  const compressed = hasSizeTrailer ? raw.subarray(0, raw.length - 4) : raw;
  const vmlinux = await decompress(payload.compression, compressed, options.run, options.signal);
  if (hasSizeTrailer && vmlinux.length !== raw.readUInt32LE(raw.length - 4)) {
    throw new TartError(
      'IMAGE_VMLINUX_INVALID',
      'decompressed kernel size does not match the bzImage size trailer',
    );
  }
  return { vmlinux, payload, elf: inspectElfKernel(vmlinux) };
}

/** Validates an x86-64 ELF executable and looks for the PVH entry note. */
export function inspectElfKernel(elf: Buffer): ElfKernelInfo {
  const isElf64 = elf.length > 64 && elf.readUInt32BE(0) === 0x7f454c46 && elf[4] === 2 && elf[5] === 1;
  if (!isElf64 || elf.readUInt16LE(0x12) !== 0x3e) {
    throw new TartError('IMAGE_VMLINUX_INVALID', 'extracted kernel is not a little-endian x86-64 ELF');
  }
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  let hasPvhNote = false;
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    if (elf.readUInt32LE(header) !== PT_NOTE) continue;
    const start = Number(elf.readBigUInt64LE(header + 0x08));
    const size = Number(elf.readBigUInt64LE(header + 0x20));
    if (notesContainPvh(elf.subarray(start, start + size))) hasPvhNote = true;
  }
  return { hasPvhNote, entry: elf.readBigUInt64LE(0x18) };
}

// ELF notes: namesz, descsz, type, then name and desc, each padded to 4 bytes.
function notesContainPvh(notes: Buffer): boolean {
  let at = 0;
  while (at + 12 <= notes.length) {
    const nameSize = notes.readUInt32LE(at);
    const descSize = notes.readUInt32LE(at + 4);
    const type = notes.readUInt32LE(at + 8);
    const name = notes.toString('latin1', at + 12, at + 12 + Math.max(0, nameSize - 1));
    if (name === 'Xen' && type === PVH_NOTE_TYPE) return true;
    at += 12 + align4(nameSize) + align4(descSize);
  }
  return false;
}

function align4(value: number): number {
  return (value + 3) & ~3;
}

async function decompress(
  compression: KernelCompression,
  data: Buffer,
  run: CommandRunner,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  if (compression === 'gzip') return gunzipSync(data);
  const command = DECOMPRESSORS[compression];
  if (!command) throw new TartError('IMAGE_NOT_BZIMAGE', `no decompressor for ${compression} kernels`);
  const dir = await mkdtemp(join(tmpdir(), 'tart-vmlinux-'));
  try {
    const input = join(dir, 'payload');
    const output = join(dir, 'vmlinux');
    await writeFile(input, data);
    const [tool, args] = command(input, output);
    await runChecked(run, { command: tool, args, signal });
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
