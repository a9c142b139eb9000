// Released Firecracker (≤ 1.16) boots only an ELF vmlinux on x86_64; a bzImage fails at PUT
// /boot-source with "Invalid Elf magic number" (firecracker.md §2.1). Check before spawning.
import { open } from 'node:fs/promises';
import { TartError } from '../../errors.js';

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Throws FIRECRACKER_KERNEL_NOT_ELF (or FIRECRACKER_KERNEL_MISSING) unless `path` starts with the ELF magic. */
export async function assertElfKernel(path: string): Promise<void> {
  let head: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      await file.read(head, 0, 4, 0);
    } finally {
      await file.close();
    }
  } catch (cause) {
    throw new TartError('FIRECRACKER_KERNEL_MISSING', `cannot read the kernel ${path}`, {
      cause,
      details: { path },
    });
  }
  if (!head.equals(ELF_MAGIC)) {
    throw new TartError(
      'FIRECRACKER_KERNEL_NOT_ELF',
      `${path} is not an ELF vmlinux; Firecracker needs the image's "vmlinux", not "vmlinuz"`,
      { details: { path } },
    );
  }
}
