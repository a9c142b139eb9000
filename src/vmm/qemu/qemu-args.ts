// The qemu-system-x86_64 command line for one microVM (pure; no secret ever goes in here:
// the command line is visible in the host's process list).
import type { VmSpec } from '../types.js';

export type QemuAccelerator = 'kvm' | 'tcg';

export interface QemuArgsInput {
  spec: VmSpec;
  accel: QemuAccelerator;
  qmpSocket: string;
  pidFile: string;
  /**
   * Shared read-only disks handed to QEMU as open descriptors (the child's fd numbers) instead of
   * paths: an unprivileged QEMU never needs access to the image store's private directories.
   */
  passedDisks?: { rootfs?: number; jobImage?: number; services?: number[] };
  /**
   * Confines QEMU, started as root, once it has opened its files: chroot into `dir` (qemu-jail.ts),
   * then drop to uid:gid with every capability gone.
   */
  jail?: { dir: string; uid: number; gid: number };
}

/**
 * QEMU's seccomp filter: no obsolete syscalls, no set*uid/gid or other privilege gains (which
 * also sets NoNewPrivs), no fork/exec, no scheduler or CPU-affinity changes. A guest that
 * escapes into the QEMU process still cannot start a program or raise its privileges.
 */
export const QEMU_SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

/**
 * The filter of a jailed QEMU. QEMU 7.2 installs its filter before it chroots and drops to -runas,
 * so set*uid must stay allowed for that one drop (elevateprivileges=deny kills it with SIGSYS).
 * Once dropped, every uid and gid is vm_user's, no capability is left and NoNewPrivs is set
 * (libseccomp sets it), so the calls can change nothing; fork/exec stay denied.
 */
export const QEMU_SANDBOX_JAILED = 'on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny';

export function buildQemuArgs({ spec, accel, qmpSocket, pidFile, passedDisks = {}, jail }: QemuArgsInput): string[] {
  // An fd set per passed disk (set id = the fd); the drive names it as /dev/fdset/<id>.
  const fileOf = (path: string, fd: number | undefined) => (fd === undefined ? path : `/dev/fdset/${fd}`);
  const passed = [passedDisks.rootfs, passedDisks.jobImage, ...(passedDisks.services ?? [])].filter((fd) => fd !== undefined);
  const fdSets = passed.flatMap((fd) => ['-add-fd', `fd=${fd},set=${fd}`]);
  return [
    '-sandbox', jail ? QEMU_SANDBOX_JAILED : QEMU_SANDBOX,
    ...(jail ? ['-chroot', jail.dir, '-runas', `${jail.uid}:${jail.gid}`] : []),
    // Paused until the driver has checked the jail and placed QEMU in its cgroup, then `cont`:
    // QEMU 7.2 starts the guest before it chroots and drops its uid.
    '-S',
    // acpi=on: the cloud kernel needs it; legacy timers stay on because TCG hangs without them.
    '-M', 'microvm,acpi=on',
    '-accel', accel,
    ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(spec.memoryMb),
    '-smp', String(spec.vcpus),
    '-name', `tart-${spec.id}`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-chardev', 'stdio,id=console,signal=off',
    '-serial', 'chardev:console',
    '-kernel', spec.kernelPath,
    '-initrd', spec.initrdPath,
    '-append', spec.kernelCmdline,
    ...fdSets,
    ...drive('rootfs', fileOf(spec.disks.rootfs, passedDisks.rootfs), true),
    ...drive('scratch', spec.disks.scratch, false),
    ...drive('seed', spec.disks.seed, true),
    ...(spec.disks.jobImage ? drive('job_image', fileOf(spec.disks.jobImage, passedDisks.jobImage), true) : []),
    ...(spec.disks.services ?? []).flatMap((file, index) => drive(`service_${index}`, fileOf(file, passedDisks.services?.[index]), true)),
    ...network(spec),
    '-device', 'virtio-rng-device',
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    '-pidfile', pidFile,
  ];
}

// One virtio-mmio block device; the attach order gives /dev/vda, vdb, vdc, vdd (guest contract).
function drive(id: string, file: string, readOnly: boolean): string[] {
  const options = [`id=${id}`, `file=${file}`, 'format=raw', 'if=none', 'cache=unsafe', ...(readOnly ? ['readonly=on'] : [])];
  return ['-drive', options.join(','), '-device', `virtio-blk-device,drive=${id}`];
}

function network(spec: VmSpec): string[] {
  if (spec.network.mode === 'user') {
    return ['-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${spec.network.sshForwardPort}-:22`, '-device', 'virtio-net-device,netdev=net0'];
  }
  return [
    '-netdev', `tap,id=net0,ifname=${spec.network.tapName},script=no,downscript=no`,
    '-device', `virtio-net-device,netdev=net0,mac=${spec.network.mac}`,
  ];
}
