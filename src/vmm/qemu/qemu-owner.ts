// A QEMU started as an unprivileged uid/gid (the host guard's `vm_user`) opens its files as that
// user: the VM's own disks become its, its sockets and pid file go in a directory of its own,
// and the runtime dirs above become search-only (0711) so it can reach them without listing them.
// The client key and state file stay root's (0600). The shared read-only disks (the image's
// rootfs, a job image and service images from the 0700 store) are opened here and passed as descriptors; the kernel
// and initrd, which QEMU reads by path, are checked up front, so a missing permission is a clear
// error, not QEMU's exit.
import { constants } from 'node:fs';
import { chmod, chown, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TartError } from '../../errors.js';
import type { VmSpec } from '../types.js';

export interface QemuOwner {
  uid: number;
  gid: number;
}

/** The directory, inside the VM's runtime dir, that the QEMU user owns (QMP socket, pid file). */
export const QEMU_OWNED_DIR = 'qemu';

export interface OwnerHandover {
  /** Where QEMU's QMP socket and pid file go. */
  controlDir: string;
  /** The child's fd number of each passed disk (qemu-args.ts `passedDisks`). */
  passedDisks: { rootfs?: number; jobImage?: number; services?: number[] };
  /** Descriptors for the child's stdio from index 3 on, in fd order. */
  descriptors: number[];
  /** Closes this process's copies once QEMU has its own (or failed to start). */
  close(): Promise<void>;
}

/** Makes `spec`'s files usable by `owner`: its control dir, its disks, the shared disks opened. */
export async function handOverToOwner(spec: VmSpec, owner: QemuOwner): Promise<OwnerHandover> {
  await chmod(dirname(spec.runtimeDir), 0o711);
  await chmod(spec.runtimeDir, 0o711);
  const controlDir = join(spec.runtimeDir, QEMU_OWNED_DIR);
  await mkdir(controlDir, { mode: 0o700 });
  await chown(controlDir, owner.uid, owner.gid);
  for (const disk of [spec.disks.scratch, spec.disks.seed]) await chown(disk, owner.uid, owner.gid);
  for (const file of [spec.kernelPath, spec.initrdPath, controlDir]) await assertReadableBy(file, owner);
  const handles: FileHandle[] = [];
  const passedDisks: OwnerHandover['passedDisks'] = {};
  try {
    for (const role of ['rootfs', 'jobImage'] as const) {
      const path = spec.disks[role];
      if (path === undefined) continue;
      handles.push(await open(path, 'r'));
      passedDisks[role] = 2 + handles.length;
    }
    for (const path of spec.disks.services ?? []) {
      handles.push(await open(path, 'r'));
      (passedDisks.services ??= []).push(2 + handles.length);
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()));
    throw error;
  }
  return {
    controlDir,
    passedDisks,
    descriptors: handles.map((handle) => handle.fd),
    close: async () => void (await Promise.all(handles.map((handle) => handle.close()))),
  };
}

// Every directory on the way must be searchable by the owner, and the file itself readable.
async function assertReadableBy(path: string, owner: QemuOwner): Promise<void> {
  const steps: Array<{ path: string; bit: 'x' | 'r' }> = [{ path, bit: 'r' }];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    steps.push({ path: dir, bit: 'x' });
    if (dir === dirname(dir)) break;
  }
  for (const step of steps) {
    const info = await stat(step.path);
    if (!permits(info, owner, step.bit)) {
      throw new TartError(
        'VMM_FILE_UNREACHABLE',
        `QEMU runs as uid ${owner.uid} (gid ${owner.gid}) and cannot ${step.bit === 'x' ? 'enter' : 'read'} ` +
          `${step.path} (fix: chmod o+${step.bit} ${step.path}, or give [runners.vm] vm_user access to it)`,
        { details: { path: step.path, uid: owner.uid, gid: owner.gid } },
      );
    }
  }
}

function permits(info: { mode: number; uid: number; gid: number }, owner: QemuOwner, bit: 'x' | 'r'): boolean {
  const [user, group, other] =
    bit === 'x'
      ? [constants.S_IXUSR, constants.S_IXGRP, constants.S_IXOTH]
      : [constants.S_IRUSR, constants.S_IRGRP, constants.S_IROTH];
  if (info.uid === owner.uid) return (info.mode & user) !== 0;
  if (info.gid === owner.gid) return (info.mode & group) !== 0;
  return (info.mode & other) !== 0;
}
