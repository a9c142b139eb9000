// Where one VM's files live: the paths Firecracker is given and the host paths behind them. Without
// the jailer they are the same; with it Firecracker sees the chroot as / and files are staged in.
import { join } from 'node:path';
import type { BootPlanInput } from './boot-plan.js';
import { hostPathInJail, JAIL_PATHS, type JailerOptions, type JailFile } from './jailer.js';
import { assertUnixSocketPathFits } from './unix-socket-path.js';
import type { VmSpec } from '../types.js';

export interface VmLayout {
  /** Paths as Firecracker opens them. */
  inVmm: {
    apiSocket: string;
    vsock: string;
    log: string;
    kernel: string;
    initrd: string;
    drives: BootPlanInput['drives'];
    serviceDrives: string[];
  };
  /** Host paths of the files Firecracker creates (sockets) or writes (log). */
  host: { apiSocket: string; vsock: string; log: string };
  /** Files to link into the chroot before the jailer starts (jailed layouts only). */
  jailFiles: JailFile[];
}

/** Short names: the sockets must fit the 107-byte unix path limit. */
export const RUNTIME_FILE_NAMES = { apiSocket: 'fc.sock', vsock: 'v.sock', log: 'firecracker.log' } as const;

/** The layout for a VM, checking that both sockets fit the unix path limit. */
export function planVmLayout(spec: VmSpec, jailer?: JailerOptions): VmLayout {
  const layout = jailer === undefined ? directLayout(spec) : jailedLayout(spec, jailer);
  assertUnixSocketPathFits(layout.host.apiSocket, 'Firecracker API socket');
  assertUnixSocketPathFits(layout.host.vsock, 'vsock socket');
  return layout;
}

function directLayout(spec: VmSpec): VmLayout {
  const host = {
    apiSocket: join(spec.runtimeDir, RUNTIME_FILE_NAMES.apiSocket),
    vsock: join(spec.runtimeDir, RUNTIME_FILE_NAMES.vsock),
    log: join(spec.runtimeDir, RUNTIME_FILE_NAMES.log),
  };
  return {
    inVmm: { ...host, kernel: spec.kernelPath, initrd: spec.initrdPath, drives: driveFiles(spec), serviceDrives: spec.disks.services ?? [] },
    host,
    jailFiles: [],
  };
}

function jailedLayout(spec: VmSpec, jailer: JailerOptions): VmLayout {
  const inJail = (path: string): string => hostPathInJail(jailer, spec.id, path);
  return {
    inVmm: {
      apiSocket: JAIL_PATHS.apiSocket,
      vsock: JAIL_PATHS.vsock,
      log: JAIL_PATHS.log,
      kernel: JAIL_PATHS.kernel,
      initrd: JAIL_PATHS.initrd,
      drives: {
        rootfs: JAIL_PATHS.rootfs,
        scratch: JAIL_PATHS.scratch,
        seed: JAIL_PATHS.seed,
        ...(spec.disks.jobImage ? { job_image: JAIL_PATHS.jobImage } : {}),
      },
      serviceDrives: (spec.disks.services ?? []).map((_, index) => serviceJailPath(index)),
    },
    host: {
      apiSocket: inJail(JAIL_PATHS.apiSocket),
      vsock: inJail(JAIL_PATHS.vsock),
      log: inJail(JAIL_PATHS.log),
    },
    jailFiles: [
      { hostPath: spec.kernelPath, jailPath: JAIL_PATHS.kernel, ownedByJail: false },
      { hostPath: spec.initrdPath, jailPath: JAIL_PATHS.initrd, ownedByJail: false },
      { hostPath: spec.disks.rootfs, jailPath: JAIL_PATHS.rootfs, ownedByJail: false },
      { hostPath: spec.disks.scratch, jailPath: JAIL_PATHS.scratch, ownedByJail: true },
      { hostPath: spec.disks.seed, jailPath: JAIL_PATHS.seed, ownedByJail: true },
      ...(spec.disks.jobImage ? [{ hostPath: spec.disks.jobImage, jailPath: JAIL_PATHS.jobImage, ownedByJail: false }] : []),
      ...(spec.disks.services ?? []).map((hostPath, index) => ({ hostPath, jailPath: serviceJailPath(index), ownedByJail: false })),
    ],
  };
}

// A service image inside the jail, beside the job image.
function serviceJailPath(index: number): string {
  return `/service-${index}.ext4`;
}

// Guest-contract drive ids for the spec's disks (the job image only when the job has one).
function driveFiles(spec: VmSpec): BootPlanInput['drives'] {
  const { rootfs, scratch, seed, jobImage } = spec.disks;
  return { rootfs, scratch, seed, ...(jobImage ? { job_image: jobImage } : {}) };
}
