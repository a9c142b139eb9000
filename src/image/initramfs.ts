// Builds initrd.img: a gzip'd cpio newc holding busybox-static, the kernel modules the guest
// needs (decompressed, in modules.dep order) and the /init from initramfs-init.ts.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { withParentDirectories, writeCpio, type CpioEntry } from './cpio.js';
import { INITRAMFS_APPLETS, renderInitramfsInit } from './initramfs-init.js';
import {
  initramfsModulePath,
  readModuleIndex,
  readModuleObject,
  resolveModuleLoadOrder,
  GUEST_MODULES,
} from './modules.js';
import type { CommandRunner } from './spawn.js';

/** busybox-static's binary on Debian. */
export const BUSYBOX_PATH = '/bin/busybox';

export interface InitramfsResult {
  image: Buffer;
  /** Module paths (relative to /lib/modules/<release>) in load order. */
  modules: string[];
}

/** Collects the pieces and returns the compressed archive. */
export async function buildInitramfs(options: {
  modulesDir: string;
  busyboxPath?: string;
  run: CommandRunner;
  signal?: AbortSignal;
}): Promise<InitramfsResult> {
  const index = await readModuleIndex(options.modulesDir);
  const modules = resolveModuleLoadOrder(index, GUEST_MODULES);
  const moduleEntries: CpioEntry[] = [];
  for (const path of modules) {
    const data = await readModuleObject({
      modulesDir: options.modulesDir,
      path,
      run: options.run,
      signal: options.signal,
    });
    moduleEntries.push({ kind: 'file', path: initramfsModulePath(path), data, mode: 0o644 });
  }
  const busybox = await readStaticBusybox(options.busyboxPath ?? BUSYBOX_PATH);
  const init = renderInitramfsInit({ modules: modules.map(initramfsModulePath) });
  const entries = initramfsEntries({ busybox, init, moduleEntries });
  return { image: gzipSync(writeCpio(entries), { level: 9 }), modules };
}

/** The archive layout; pure so tests can inspect it without a kernel. */
export function initramfsEntries(parts: {
  busybox: Buffer;
  init: string;
  moduleEntries: CpioEntry[];
}): CpioEntry[] {
  return withParentDirectories([
    ...['dev', 'proc', 'sys', 'lower', 'scratch', 'newroot'].map((path): CpioEntry => ({
      kind: 'directory',
      path,
    })),
    // The kernel opens /dev/console before /init runs; without the node init has no output.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { kind: 'file', path: 'bin/busybox', data: parts.busybox, mode: 0o755 },
    ...INITRAMFS_APPLETS.map((applet): CpioEntry => ({
      kind: 'symlink',
      path: `bin/${applet}`,
      target: 'busybox',
    })),
    ...parts.moduleEntries,
    { kind: 'file', path: 'init', data: Buffer.from(parts.init, 'utf8'), mode: 0o755 },
  ]);
}

// A dynamically linked busybox would need a libc in the initramfs; refuse it.
async function readStaticBusybox(path: string): Promise<Buffer> {
  const data = await readFile(path).catch((cause: unknown) => {
    throw new UserError('IMAGE_TOOL_MISSING', `cannot read ${path}: install busybox-static`, { cause });
  });
  if (hasInterpreter(data))
    throw new UserError('IMAGE_TOOL_MISSING', `${path} is not static: install busybox-static`);
  return data;
}

// PT_INTERP (type 3) in the program headers means "needs a dynamic loader".
function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return true;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  }
  return false;
}
