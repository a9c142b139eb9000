// The job's container image as the root of its user stages, inside the VM (the helper/build split
// of gitlab-runner's docker executor). One exec mounts the image disk read-only, an overlay on the
// per-job scratch disk, /proc, /sys, /dev (with pts and shm), a fresh /tmp, the builds dir and the
// VM's resolv.conf and hosts; every step_* and after_script then runs through chroot. All of it is
// done by the static busybox carried on the image disk: no dynamic exec, ~80 ms each under TCG.
import type { ImageRuntimeConfig } from '../../oci/image-config.js';
import { JOB_IMAGE_DISK } from '../../oci/rootfs-image.js';
import { GUEST_DEVICES } from '../../vmm/guest-contract.js';

const BASE = '/run/tart-image';
const DISK = `${BASE}/disk`;
export const IMAGE_ROOT = `${BASE}/root`;
export const GUEST_BUSYBOX = `${DISK}/${JOB_IMAGE_DISK.busybox}`;

/** The argv of the one exec that builds the image root (helper root's mount, then busybox). */
export function imageRootSetupCommand(buildsDir: string): string[] {
  const first = `mkdir -p ${DISK} && mount -t ext4 -o ro,noload ${GUEST_DEVICES.jobImage} ${DISK} && exec "$0" sh -c "$1"`;
  return ['sh', '-c', first, GUEST_BUSYBOX, setupScript(buildsDir)];
}

// Busybox sh. The overlay's upper and work dirs sit on a second mount of the scratch disk (they
// cannot sit on the helper root, itself an overlay).
function setupScript(buildsDir: string): string {
  const b = GUEST_BUSYBOX;
  const r = IMAGE_ROOT;
  const scratch = `${BASE}/scratch`;
  return [
    'set -eu',
    `${b} mkdir -p ${scratch} ${r} ${buildsDir}`,
    `${b} mount -t ext4 ${GUEST_DEVICES.scratch} ${scratch}`,
    `${b} mkdir -p ${scratch}/image/upper ${scratch}/image/work`,
    `${b} mount -t overlay overlay -o lowerdir=${DISK}/${JOB_IMAGE_DISK.rootfs},upperdir=${scratch}/image/upper,workdir=${scratch}/image/work ${r}`,
    `for d in proc sys dev tmp etc ${buildsDir.replace(/^\//, '')}; do [ -d ${r}/$d ] || { ${b} rm -f ${r}/$d; ${b} mkdir -p ${r}/$d; }; done`,
    `${b} mount -t proc proc ${r}/proc`,
    `${b} mount -t sysfs sysfs ${r}/sys`,
    `${b} mount -o rbind /dev ${r}/dev`,
    `${b} mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs ${r}/tmp`,
    `${b} mount -o bind ${buildsDir} ${r}${buildsDir}`,
    `for f in resolv.conf hosts hostname; do ${b} rm -f ${r}/etc/$f; [ -f /etc/$f ] && ${b} cp /etc/$f ${r}/etc/$f; done; true`,
  ].join('\n');
}

// gitlab-runner's shell detection (docker executor reference §4.5): bash where present, else sh.
// bash gets the script in one read (it reads a pipe byte by byte otherwise, see job/stages.ts);
// busybox sh reads it as it is (its eval of "$(cat)" mis-parses \' inside $'…').
const BULK = `-c 'eval "$(cat)"'`;
export const DETECT_SHELL_SCRIPT = [
  `if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash ${BULK}`,
  `elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash ${BULK}`,
  `elif [ -x /bin/bash ]; then exec /bin/bash ${BULK}`,
  'elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh "$@"',
  'elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh "$@"',
  'elif [ -x /bin/sh ]; then exec /bin/sh "$@"',
  'elif [ -x /busybox/sh ]; then exec /busybox/sh "$@"',
  'else echo shell not found; exit 1; fi',
].join('\n');

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The argv for a user stage: a clean environment of the image's Env (the script then exports the
 * job's variables over it), chroot into the image root, the entrypoint, then the shell detection
 * with the stage script on stdin.
 */
export function userStageCommand(config: ImageRuntimeConfig, entrypoint: readonly string[]): string[] {
  const env = [...config.env];
  if (!env.some((entry) => entry.startsWith('PATH='))) env.push(`PATH=${DEFAULT_PATH}`);
  if (!env.some((entry) => entry.startsWith('HOME='))) env.push('HOME=/root');
  return [GUEST_BUSYBOX, 'env', '-i', ...env, GUEST_BUSYBOX, 'chroot', IMAGE_ROOT, ...entrypoint, 'sh', '-c', DETECT_SHELL_SCRIPT];
}
