// Turns a pulled OCI layout into the job's read-only disk: `umoci raw unpack` flattens the layers
// (whiteouts, opaque dirs, digest checks on every blob it reads) into /rootfs of the disk, and
// `mkfs.ext4 -d` writes the tree into an ext4 file without mounting. Beside the root the disk
// carries the static busybox the guest mounts and chroots with (/tart/busybox), and mkfs's
// lost+found stays at the disk's top, outside the job's root.
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BUSYBOX_PATH } from '../image/initramfs.js';
import { measureTree } from '../image/rootfs.js';
import { runChecked, type CommandRunner } from '../image/spawn.js';

/** Paths inside the job-image disk. */
export const JOB_IMAGE_DISK = { rootfs: 'rootfs', busybox: 'tart/busybox' } as const;

export async function buildRootfsImage(
  run: CommandRunner,
  options: { layoutDir: string; tag: string; workDir: string; output: string; busyboxPath?: string; signal?: AbortSignal },
): Promise<{ sizeBytes: number }> {
  const tree = join(options.workDir, 'disk');
  try {
    await mkdir(join(tree, 'tart'), { recursive: true });
    await copyFile(options.busyboxPath ?? BUSYBOX_PATH, join(tree, JOB_IMAGE_DISK.busybox));
    await runChecked(run, {
      command: 'umoci',
      args: ['raw', 'unpack', '--image', `${options.layoutDir}:${options.tag}`, join(tree, JOB_IMAGE_DISK.rootfs)],
      signal: options.signal,
    });
    const usage = await measureTree(tree);
    await runChecked(run, { command: 'mkfs.ext4', args: imageMkfsArgs({ tree, output: options.output, ...usage }), signal: options.signal });
    return { sizeBytes: (await stat(options.output)).size };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

/** Read-only image: no journal, no reserved blocks, 8 MiB + 5 % slack, inodes for every entry. */
export function imageMkfsArgs(options: { tree: string; output: string; bytes: number; entries: number }): string[] {
  const sizeKiB = Math.ceil((options.bytes * 1.05 + 8 * 1024 * 1024) / 1024 / 4) * 4;
  const inodes = Math.ceil(options.entries * 1.1) + 256;
  return ['-q', '-F', '-t', 'ext4', '-b', '4096', '-m', '0', '-O', '^has_journal', '-N', String(inodes), '-L', 'tart-job-image', '-E', 'nodiscard,root_owner=0:0', '-d', options.tree, options.output, `${sizeKiB}k`];
}

