// Turns a pulled OCI layout into the job's read-only root disk: `umoci raw unpack` flattens the
// layers (whiteouts, opaque dirs, digest checks on every blob it reads), `mkfs.ext4 -d` writes the
// tree into an ext4 file without mounting, and debugfs removes mkfs's lost+found so the job's root
// shows only the image's own files.
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, type CommandRunner } from '../image/spawn.js';

export async function buildRootfsImage(
  run: CommandRunner,
  options: { layoutDir: string; tag: string; workDir: string; output: string; signal?: AbortSignal },
): Promise<{ sizeBytes: number; hadLostFound: boolean }> {
  const tree = join(options.workDir, 'rootfs');
  try {
    await runChecked(run, { command: 'umoci', args: ['raw', 'unpack', '--image', `${options.layoutDir}:${options.tag}`, tree], signal: options.signal });
    const hadLostFound = await lstat(join(tree, 'lost+found')).then(() => true, () => false);
    const usage = await measureTree(tree);
    await runChecked(run, { command: 'mkfs.ext4', args: imageMkfsArgs({ tree, output: options.output, ...usage }), signal: options.signal });
    if (!hadLostFound) {
      await runChecked(run, { command: 'debugfs', args: ['-w', '-R', 'rmdir lost+found', options.output], signal: options.signal });
    }
    return { sizeBytes: (await stat(options.output)).size, hadLostFound };
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

async function measureTree(root: string): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const info = await lstat(path);
      entries += 1;
      bytes += Math.max(info.blocks * 512, 4096);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return { bytes, entries };
}
