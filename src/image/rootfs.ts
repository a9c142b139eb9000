// rootfs.ext4: a Debian minbase tree from mmdebstrap with the guest init, sshd config and a static
// busybox (for boot commands) added and the package's sshd host keys removed, turned into ext4 by
// `mkfs.ext4 -d` (no mounting). As root mmdebstrap writes a directory; otherwise it runs in
// --mode=unshare, writes a tar, and the tar is unpacked and imaged inside one fakeroot session so
// files stay owned by root.
import { lstat, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runChecked, type CommandRunner } from './spawn.js';
import { GUEST_INIT_PATH } from './initramfs-init.js';
import { HELPER_ROOT_BUSYBOX } from '../vmm/guest-contract.js';

export const ROOTFS_SUITE = 'bookworm';

/** Packages on top of minbase. e2fsprogs also provides the initramfs's mke2fs. */
export const ROOTFS_PACKAGES: readonly string[] = [
  'bash',
  // Bridges Firecracker's vsock port 22 to sshd (the guest channel needs no network).
  'socat',
  'coreutils',
  'git',
  'git-lfs',
  'curl',
  'ca-certificates',
  'openssh-server',
  'tar',
  'gzip',
  'zstd',
  'unzip',
  'iproute2',
  'procps',
  'e2fsprogs',
  'mount',
  // modprobe for the kernel's module autoloading (containers in the job: CONTAINER_MODULE_TREES).
  'kmod',
];

/** Paths dpkg skips: documentation and translations a CI guest never reads. */
export const ROOTFS_DPKG_EXCLUDES: readonly string[] = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
];

export interface RootfsFiles {
  guestInit: string;
  sshdConfig: string;
  /** A staged /lib/modules/<release> (container-modules.ts), indexed by depmod inside the root. */
  modules?: { dir: string; release: string };
}

/** Builds `output` (an ext4 image file) from scratch inside `workDir`. */
export async function buildRootfs(options: {
  workDir: string;
  output: string;
  aptSourcesFile: string;
  files: RootfsFiles;
  /** The host's static busybox (busybox-static), copied to HELPER_ROOT_BUSYBOX. */
  busyboxFile: string;
  asRoot: boolean;
  run: CommandRunner;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<{ sizeBytes: number }> {
  const { workDir, run, signal } = options;
  const initFile = join(workDir, 'tart-init');
  const sshdFile = join(workDir, 'sshd_config');
  await writeFile(initFile, options.files.guestInit, { mode: 0o755 });
  await writeFile(sshdFile, options.files.sshdConfig, { mode: 0o644 });
  const tree = join(workDir, 'rootfs');
  const target = options.asRoot ? tree : join(workDir, 'rootfs.tar');

  let started = Date.now();
  options.log(`mmdebstrap: building ${ROOTFS_SUITE} minbase (${ROOTFS_PACKAGES.length} packages)…`);
  await runChecked(run, {
    command: 'mmdebstrap',
    args: mmdebstrapArgs({
      mode: options.asRoot ? 'root' : 'unshare',
      target,
      aptSourcesFile: options.aptSourcesFile,
      initFile,
      sshdFile,
      ...(options.files.modules ? { modules: options.files.modules } : {}),
      busyboxFile: options.busyboxFile,
    }),
    signal,
  });
  options.log(`mmdebstrap: done (${elapsed(started)} s)`);

  started = Date.now();
  options.log('mkfs.ext4: writing rootfs.ext4…');
  if (options.asRoot) {
    const usage = await measureTree(tree);
    await runChecked(run, {
      command: 'mkfs.ext4',
      args: mkfsArgs({ tree, output: options.output, ...usage }),
      signal,
    });
  } else {
    const tarBytes = (await stat(target)).size;
    const usage = { bytes: tarBytes, entries: Math.ceil(tarBytes / 8192) };
    const script =
      'mkdir "$1" && tar -x -p --numeric-owner -f "$2" -C "$1" && shift 2 && exec mkfs.ext4 "$@"';
    await runChecked(run, {
      command: 'fakeroot',
      args: [
        'sh',
        '-c',
        script,
        'tart-mkfs',
        tree,
        target,
        ...mkfsArgs({ tree, output: options.output, ...usage }),
      ],
      signal,
    });
  }
  options.log(`mkfs.ext4: done (${elapsed(started)} s)`);
  return { sizeBytes: (await stat(options.output)).size };
}

/** The mmdebstrap command line (hooks run with "$1" = the new root). */
export function mmdebstrapArgs(options: {
  mode: 'root' | 'unshare';
  target: string;
  aptSourcesFile: string;
  initFile: string;
  sshdFile: string;
  modules?: { dir: string; release: string };
  busyboxFile: string;
}): string[] {
  const { modules } = options;
  const moduleHooks = modules
    ? [
        '--customize-hook=mkdir -p "$1"/lib/modules',
        `--customize-hook=copy-in ${join(modules.dir, modules.release)} /lib/modules`,
        `--customize-hook=chroot "$1" depmod -a ${modules.release}`,
      ]
    : [];
  return [
    `--mode=${options.mode}`,
    '--variant=minbase',
    `--include=${ROOTFS_PACKAGES.join(',')}`,
    ...ROOTFS_DPKG_EXCLUDES.map((rule) => `--dpkgopt=${rule}`),
    // No fsync per file: a crashed build is thrown away anyway. Changes no bytes, so not a recipe input.
    '--dpkgopt=force-unsafe-io',
    '--aptopt=Acquire::Retries "3"',
    `--customize-hook=upload ${options.initFile} ${GUEST_INIT_PATH}`,
    `--customize-hook=upload ${options.sshdFile} /etc/ssh/sshd_config`,
    `--customize-hook=mkdir -p "$1${dirname(HELPER_ROOT_BUSYBOX)}"`,
    `--customize-hook=upload ${options.busyboxFile} ${HELPER_ROOT_BUSYBOX}`,
    `--customize-hook=chmod 0755 "$1${HELPER_ROOT_BUSYBOX}"`,
    // Host keys come per VM from the seed; resolv.conf is written at boot from network.env.
    `--customize-hook=chmod 0755 "$1${GUEST_INIT_PATH}" && rm -f "$1"/etc/ssh/ssh_host_* "$1"/etc/resolv.conf`,
    ...moduleHooks,
    '--customize-hook=rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log',
    ROOTFS_SUITE,
    options.target,
    options.aptSourcesFile,
  ];
}

/**
 * mkfs.ext4 populating from `tree`: no journal (the image is only ever mounted read-only),
 * no reserved blocks, ~10 % + 64 MiB of slack over the content, inodes for every entry + 20 %.
 */
export function mkfsArgs(options: {
  tree: string;
  output: string;
  bytes: number;
  entries: number;
}): string[] {
  const sizeKiB = Math.ceil((options.bytes * 1.1 + 64 * 1024 * 1024) / 1024 / 4) * 4;
  const inodes = Math.ceil(options.entries * 1.2) + 4096;
  return [
    '-q',
    '-F',
    '-t',
    'ext4',
    '-b',
    '4096',
    '-m',
    '0',
    '-O',
    '^has_journal',
    '-N',
    String(inodes),
    '-L',
    'tart-rootfs',
    '-E',
    'nodiscard',
    '-d',
    options.tree,
    options.output,
    `${sizeKiB}k`,
  ];
}

// Allocated bytes (what the filesystem must hold) and entry count of a tree.
export async function measureTree(root: string): Promise<{ bytes: number; entries: number }> {
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

function elapsed(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
