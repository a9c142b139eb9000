// Running Firecracker under its jailer (firecracker.md §7.1): the argv, the chroot layout, and
// staging every file Firecracker opens into the chroot (hard link, or copy across filesystems).
import { chown, copyFile, link, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TartError } from '../../errors.js';

export interface JailerOptions {
  /** The jailer executable. */
  jailerBinary: string;
  /** The Firecracker executable the jailer copies into the chroot. */
  firecrackerBinary: string;
  uid: number;
  gid: number;
  /** Keep it short: the sockets inside the chroot must fit 107 bytes. */
  chrootBase: string;
  /** A network namespace to join, e.g. /var/run/netns/<name>. */
  netns?: string;
}

/** Paths inside the jail (Firecracker sees the chroot as /). */
export const JAIL_PATHS = {
  apiSocket: '/api.sock',
  vsock: '/v.sock',
  log: '/firecracker.log',
  kernel: '/vmlinux',
  initrd: '/initrd.img',
  rootfs: '/rootfs.ext4',
  scratch: '/scratch.img',
  seed: '/seed.tar',
  jobImage: '/job-image.ext4',
} as const;

/** `<chrootBase>/<firecracker file name>/<id>`: the directory the jailer owns (and we remove). */
export function jailDir(options: JailerOptions, id: string): string {
  return join(options.chrootBase, basename(options.firecrackerBinary), id);
}

/** `<jailDir>/root`: the chroot itself. */
export function jailRoot(options: JailerOptions, id: string): string {
  return join(jailDir(options, id), 'root');
}

/** Host path of a path inside the jail. */
export function hostPathInJail(options: JailerOptions, id: string, jailPath: string): string {
  return join(jailRoot(options, id), jailPath);
}

/**
 * The jailer's argv (without the executable). cgroup v2 is explicit because the jailer defaults to
 * v1; the Firecracker arguments follow `--`.
 */
export function buildJailerArgv(options: JailerOptions, id: string, firecrackerArgs: string[]): string[] {
  const argv = [
    '--id',
    id,
    '--exec-file',
    options.firecrackerBinary,
    '--uid',
    String(options.uid),
    '--gid',
    String(options.gid),
    '--chroot-base-dir',
    options.chrootBase,
    '--cgroup-version',
    '2',
  ];
  if (options.netns !== undefined) argv.push('--netns', options.netns);
  return [...argv, '--', ...firecrackerArgs];
}

export interface JailFile {
  hostPath: string;
  jailPath: string;
  /** Per-VM files (scratch, seed) are handed to the jail uid; shared ones (kernel, rootfs) are not touched. */
  ownedByJail: boolean;
}

/** File-system effects of staging, replaceable in tests (chown needs root). */
export interface JailFs {
  chown(path: string, uid: number, gid: number): Promise<void>;
}

export const realJailFs: JailFs = { chown };

/** Creates the chroot and links (or copies) every file into it. */
export async function stageJailFiles(
  options: JailerOptions,
  id: string,
  files: JailFile[],
  fs: JailFs = realJailFs,
): Promise<void> {
  const root = jailRoot(options, id);
  await mkdir(root, { recursive: true, mode: 0o750 });
  await fs.chown(root, options.uid, options.gid);
  for (const file of files) {
    const target = join(root, file.jailPath);
    await linkOrCopy(file.hostPath, target);
    if (file.ownedByJail) await fs.chown(target, options.uid, options.gid);
  }
}

/** Removes the whole jail directory (the jailer leaves it behind). */
export async function removeJail(options: JailerOptions, id: string): Promise<void> {
  await rm(jailDir(options, id), { recursive: true, force: true });
}

/** A hard link shares the data (O(1)); across filesystems it must be a copy. */
async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EXDEV') {
      await copyFile(source, target);
      return;
    }
    throw new TartError(
      'FIRECRACKER_JAIL_SETUP_FAILED',
      `cannot place ${source} in the jail at ${target}: ${(error as Error).message}`,
      {
        cause: error,
        details: { source, target, errno: code },
      },
    );
  }
}
