// Helpers for image tests: find the host's Debian cloud kernel and the built image.
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultImageRoot, CURRENT_LINK, IMAGE_FILES } from '../../src/image/layout.js';

/** The newest installed *-cloud-amd64 kernel release with modules, if any. */
export async function hostKernelRelease(): Promise<string | undefined> {
  const releases = (await readdir('/lib/modules').catch(() => [] as string[])).filter((name) =>
    name.endsWith('-cloud-amd64'),
  );
  for (const release of releases.sort().reverse()) {
    const ok = await access(join('/boot', `vmlinuz-${release}`)).then(
      () => true,
      () => false,
    );
    if (ok) return release;
  }
  return undefined;
}

/** The built image directory (`current` under the default root), or undefined when none is built. */
export async function builtImageDir(): Promise<string | undefined> {
  const dir = join(defaultImageRoot(), CURRENT_LINK);
  return access(join(dir, IMAGE_FILES.manifest)).then(
    () => dir,
    () => undefined,
  );
}

/** A minimal x86-64 ELF executable header with one PT_NOTE segment (PVH note when `pvh`). */
export function makeElfKernel(options: { pvh: boolean; padding?: number }): Buffer {
  const name = Buffer.from('Xen\0');
  const desc = Buffer.alloc(4);
  const note = Buffer.alloc(12 + 4 + 4);
  note.writeUInt32LE(name.length, 0);
  note.writeUInt32LE(desc.length, 4);
  note.writeUInt32LE(options.pvh ? 0x12 : 0x11, 8);
  name.copy(note, 12);
  desc.copy(note, 16);
  const header = Buffer.alloc(64 + 56);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little endian
  header[6] = 1;
  header.writeUInt16LE(2, 0x10); // ET_EXEC
  header.writeUInt16LE(0x3e, 0x12); // x86-64
  header.writeBigUInt64LE(0x1000000n, 0x18); // entry
  header.writeBigUInt64LE(64n, 0x20); // phoff
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(1, 0x38);
  header.writeUInt32LE(4, 64); // PT_NOTE
  header.writeBigUInt64LE(BigInt(64 + 56), 64 + 0x08); // offset
  header.writeBigUInt64LE(BigInt(note.length), 64 + 0x20); // filesz
  return Buffer.concat([header, note, Buffer.alloc(options.padding ?? 0, 0x90)]);
}

/** A bzImage-shaped buffer: one setup sector, boot protocol 2.15, `payload` after the setup. */
export function makeBzImage(payload: Buffer, options: { trailer?: number } = {}): Buffer {
  const setupSectors = 1;
  const protectedModeStart = (setupSectors + 1) * 512;
  const payloadOffset = 64;
  const body = options.trailer === undefined ? payload : Buffer.concat([payload, u32(options.trailer)]);
  const image = Buffer.alloc(protectedModeStart + payloadOffset + body.length + 16);
  image[0x1f1] = setupSectors;
  image.write('HdrS', 0x202, 'latin1');
  image.writeUInt16LE(0x020f, 0x206);
  image.writeUInt32LE(payloadOffset, 0x248);
  image.writeUInt32LE(body.length, 0x24c);
  body.copy(image, protectedModeStart + payloadOffset);
  return image;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
