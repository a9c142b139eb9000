// The job's container image as the root of its user stages, inside the VM (the helper/build split
// of gitlab-runner's docker executor). One command, run by the guest's init during boot (the VM's
// boot command; one exec where a guest does not report it), mounts the image disk read-only, an
// overlay on the per-job scratch disk, /proc, /sys, /dev (with pts and shm), a fresh /tmp, the
// builds dir and the VM's resolv.conf and hosts; every step_* and after_script then runs through
// chroot. Where the guest image carries a static busybox in its root (the manifest's
// helperBusybox), the command is that one static exec and its applets; in an older image, the
// helper root's dynamic sh, mkdir and mount (~80 ms each under TCG) mount the disk, and the static
// busybox carried on the image disk does the rest.
// Service roots are built the same way (service-root.ts).
import { DEFAULT_PATH } from '../../model/defaults.js';
import type { ImageRuntimeConfig } from '../../oci/image-config.js';
import { JOB_IMAGE_DISK } from '../../oci/rootfs-image.js';
import { GUEST_DEVICES } from '../../vmm/guest-contract.js';

/** Where an image disk's root lives in the guest: the disk's mount, the root, its static busybox. */
export function rootPaths(base: string): { base: string; disk: string; root: string; busybox: string } {
  const disk = `${base}/disk`;
  return { base, disk, root: `${base}/root`, busybox: `${disk}/${JOB_IMAGE_DISK.busybox}` };
}

const IMAGE_PATHS = rootPaths('/run/tart-image');
export const IMAGE_ROOT = IMAGE_PATHS.root;
export const GUEST_BUSYBOX = IMAGE_PATHS.busybox;

/** What the guest image offers a root's setup: the static busybox in its root, when it has one. */
export interface GuestTools {
  helperBusybox?: string;
}

/**
 * The argv of the one exec that builds the image root (see rootSetupCommand). With the image's
 * `user`, it ends by printing that user as numbers (see resolvedUserOf).
 */
export function imageRootSetupCommand(buildsDir: string, image: RootImageConfig = {}, tools: GuestTools = {}): string[] {
  return rootSetupCommand({ device: GUEST_DEVICES.jobImage, base: IMAGE_PATHS.base, layer: 'image', buildsDir, ...image, ...tools });
}

/**
 * What a root's setup takes: of its image's config, the user to resolve and the VOLUMEs to mount;
 * of the runner's, `volumes` (container paths) shared by the job's root and every service's.
 */
export type RootImageConfig = Pick<ImageRuntimeConfig, 'user' | 'volumes'> & { sharedVolumes?: readonly string[] };

/**
 * The same for any image disk (the job's or a service's), at rootPaths(base), the overlay's upper
 * and work dirs in `<layer>/` of the scratch disk; with a `user` other than root, the same busybox
 * sh resolves it last against the root's passwd and group files (userResolutionScript). With the
 * guest's helperBusybox, one static exec mounts the disk too; without, the helper root's sh mounts
 * it and execs the disk's busybox for the rest.
 */
export function rootSetupCommand(options: { device: string; base: string; layer: string; buildsDir: string } & RootImageConfig & GuestTools): string[] {
  const paths = rootPaths(options.base);
  const { user, helperBusybox } = options;
  const then = user === undefined || isRootUser(user) ? [] : [userResolutionScript(helperBusybox ?? paths.busybox, paths.root, user)];
  if (helperBusybox !== undefined) {
    const mountDisk = `${options.device} ${paths.disk} ext4 ro,noload`;
    return [helperBusybox, 'sh', '-c', [setupScript({ ...options, ...paths, mountDisk }), ...then].join('\n')];
  }
  const first = `mkdir -p ${paths.disk} && mount -t ext4 -o ro,noload ${options.device} ${paths.disk} && exec "$0" sh -c "$1"`;
  return ['sh', '-c', first, paths.busybox, [setupScript({ ...options, ...paths }), ...then].join('\n')];
}

/**
 * What rootSetupCommand's output says `user` is: undefined when no switch is needed (no user, or
 * root), the resolved user, or `unresolved` when the output does not name it.
 */
export function resolvedUserOf(user: string | undefined, output: string): ResolvedUser | undefined | 'unresolved' {
  if (user === undefined || isRootUser(user)) return undefined;
  return parseResolvedUser(output) ?? 'unresolved';
}

/** The user a job image's stages run as, resolved against the image's own passwd and group files. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups (the primary gid when there are none). */
  groups: number[];
  home: string;
}

// Docker's user spec: a name or uid, optionally ":" and a group name or gid.
const USER_SPEC = /^[A-Za-z0-9._][A-Za-z0-9._-]*(?::[A-Za-z0-9._][A-Za-z0-9._-]*)?$/;
const RESOLVED_PREFIX = 'tart-user ';

/** True for the users a stage runs as without switching: root, uid 0, 0:0. */
export function isRootUser(user: string): boolean {
  return /^(?:root|0)(?::(?:root|0))?$/.test(user) || user === '';
}

/**
 * A busybox sh script that resolves `user` as runc resolves a container's user (moby/sys/user
 * GetExecUser): the name or uid in <root>/etc/passwd gives uid, gid and home; a uid it does not
 * list runs with gid 0 and home "/"; an unknown name fails. A ":group" (name or gid, from
 * <root>/etc/group) sets the gid; without one, the groups that list the user are its
 * supplementary groups. Prints one line: `tart-user <uid> <gid> <groups,…> <home>`.
 */
export function userResolutionScript(busybox: string, root: string, user: string): string {
  if (!USER_SPEC.test(user)) return `echo 'unable to find user: invalid user "${user.replace(/[^A-Za-z0-9._:-]/g, '?')}"' >&2; exit 1`;
  const [name = '', group] = user.split(':');
  const awk = `${busybox} awk -F:`;
  return [
    `u='${name}'; g='${group ?? ''}'`,
    `pw=$(${awk} -v u="$u" '$1 == u || (u ~ /^[0-9]+$/ && $3 == u) { print; exit }' ${root}/etc/passwd 2>/dev/null)`,
    'if [ -n "$pw" ]; then',
    `  uname=$(echo "$pw" | ${awk} '{ print $1 }'); uid=$(echo "$pw" | ${awk} '{ print $3 }'); gid=$(echo "$pw" | ${awk} '{ print $4 }'); home=$(echo "$pw" | ${awk} '{ print $6 }')`,
    'else',
    `  case "$u" in *[!0-9]*) echo "unable to find user $u: no matching entries in passwd file" >&2; exit 1;; esac`,
    '  uname=; uid=$u; gid=0; home=/',
    'fi',
    'if [ -n "$g" ]; then',
    `  gr=$(${awk} -v g="$g" '$1 == g || (g ~ /^[0-9]+$/ && $3 == g) { print $3; exit }' ${root}/etc/group 2>/dev/null)`,
    '  if [ -n "$gr" ]; then gid=$gr; else',
    `    case "$g" in *[!0-9]*) echo "unable to find group $g: no matching entries in group file" >&2; exit 1;; esac`,
    '    gid=$g',
    '  fi',
    '  groups=$gid',
    'else',
    `  groups=$(${awk} -v n="$uname" 'n != "" { split($4, m, ","); for (i in m) if (m[i] == n) { printf "%s%s", s, $3; s = "," } }' ${root}/etc/group 2>/dev/null)`,
    '  [ -n "$groups" ] || groups=$gid',
    'fi',
    `echo "${RESOLVED_PREFIX}$uid $gid $groups \${home:-/}"`,
  ].join('\n');
}

/** The user the setup command printed, or undefined when it printed none. */
export function parseResolvedUser(output: string): ResolvedUser | undefined {
  const line = output.split('\n').find((entry) => entry.startsWith(RESOLVED_PREFIX));
  if (line === undefined) return undefined;
  const [uid, gid, groups, ...home] = line.slice(RESOLVED_PREFIX.length).trim().split(' ');
  const number = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);
  const resolved = { uid: number(uid), gid: number(gid), groups: (groups ?? '').split(',').map(number) };
  if (resolved.uid === undefined || resolved.gid === undefined || resolved.groups.some((id) => id === undefined)) return undefined;
  return { uid: resolved.uid, gid: resolved.gid, groups: resolved.groups as number[], home: home.join(' ') || '/' };
}

// Busybox sh, a standalone shell: it runs its own applets by name, without the dynamic loader, and
// `mount -a` of a list (an fstab) does several mounts in one process, so the whole root takes four
// applet processes (~10 ms each under TCG). First the disks (the image disk too with
// `mountDisk`), then the overlay and what goes over it. The overlay's upper and work dirs sit on a
// second mount of the scratch disk (they cannot sit on the helper root, itself an overlay). The
// mount points the image lacks (or has as a symlink or a file) and the copies of the VM's
// resolv.conf, hosts and hostname go straight into the upper dir before the overlay is mounted: no
// copy-up, and no path in the image's tree is followed. Volumes come last, over the finished root.
function setupScript(options: { base: string; layer: string; buildsDir: string; disk: string; root: string; busybox: string; mountDisk?: string } & RootImageConfig): string {
  const { base, buildsDir, root: r, mountDisk } = options;
  const scratch = `${base}/scratch`;
  const layer = `${scratch}/${options.layer}`;
  const lower = `${options.disk}/${JOB_IMAGE_DISK.rootfs}`;
  const upper = `${layer}/upper`;
  const fstab = (name: string, entries: string[]) => [`printf '%s\\n' ${entries.map((entry) => `'${entry} 0 0'`).join(' ')} > ${base}/${name}`, `mount -a -T ${base}/${name}`];
  return [
    'set -eu',
    `mkdir -p ${mountDisk === undefined ? '' : `${options.disk} `}${scratch} ${r} ${buildsDir}`,
    ...fstab('fstab.disks', [...(mountDisk === undefined ? [] : [mountDisk]), `${GUEST_DEVICES.scratch} ${scratch} ext4 defaults`]),
    `dirs="${upper}/etc ${layer}/work"`,
    `for d in proc sys dev tmp ${buildsDir.replace(/^\//, '')}; do [ -d ${lower}/$d ] && [ ! -L ${lower}/$d ] || dirs="$dirs ${upper}/$d"; done`,
    'mkdir -p $dirs',
    `for f in resolv.conf hosts hostname; do [ -f /etc/$f ] || continue; while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < /etc/$f > ${upper}/etc/$f; done`,
    ...fstab('fstab.root', [
      `overlay ${r} overlay lowerdir=${lower},upperdir=${upper},workdir=${layer}/work`,
      `proc ${r}/proc proc defaults`,
      `sysfs ${r}/sys sysfs defaults`,
      `cgroup2 ${r}/sys/fs/cgroup cgroup2 defaults`,
      `/dev ${r}/dev none rbind`,
      `tmpfs ${r}/tmp tmpfs mode=1777,nosuid,nodev`,
      `${buildsDir} ${r}${buildsDir} none bind`,
    ]),
    ...volumeMounts(r, [
      ...(options.volumes ?? []).map((path, index) => ({ path, dir: `${layer}/volumes/${index}`, seed: true })),
      // One dir of the scratch disk per runner volume, the same for every root: shared.
      ...(options.sharedVolumes ?? []).map((path, index) => ({ path, dir: `${scratch}/shared-volumes/${index}`, seed: false })),
    ]),
  ].join('\n');
}

// A VOLUME path as Docker takes it: absolute, no "..", and here only plain characters (the paths
// come from an image, so nothing a shell would read as more than a word).
const VOLUME_PATH = /^\/[A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*\/?$/;

/** A volume in a root: the container path, the scratch-disk dir bound over it, and whether the image's files there seed it. */
export interface VolumeMount {
  path: string;
  dir: string;
  seed: boolean;
}

/**
 * Volumes as Docker gives them to a container: a dir on the scratch disk (a real ext4, not the
 * overlay: dockerd's overlay2 cannot sit on an overlay) bound over the path; an image's VOLUME is
 * an anonymous volume seeded with what the image has there, a runner volume is shared as it is.
 * A path through a symlink of the image is skipped with a line, as is one that is not a plain
 * absolute path.
 */
export function volumeMounts(root: string, volumes: readonly VolumeMount[]): string[] {
  if (volumes.length === 0) return [];
  const lines = [
    'volume() {',
    `  p=${root}; for c in $(echo "$1" | tr / ' '); do p="$p/$c"; if [ -L "$p" ]; then echo "volume $1 skipped: it is a symlink in the image" >&2; return 0; fi; done`,
    '  mkdir -p "$p" "$2"; if [ "$3" = seed ]; then cp -a "$p/." "$2/"; fi; mount -o bind "$2" "$p"',
    '}',
  ];
  for (const { path, dir, seed } of volumes) {
    lines.push(isPlainVolumePath(path) ? `volume ${path} ${dir} ${seed ? 'seed' : 'as-is'}` : `echo 'volume skipped: not a plain absolute path' >&2`);
  }
  return lines;
}

/** A container path a volume may take: absolute, no "..", only plain characters. */
export function isPlainVolumePath(path: string): boolean {
  return VOLUME_PATH.test(path) && !path.split('/').includes('..');
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

// The helper root's coreutils chroot: it chroots and then switches user in one exec (busybox's
// cannot switch user, and nothing of the helper root is visible after the chroot).
const CHROOT_AS_USER = '/usr/sbin/chroot';

/**
 * The argv for a user stage: a clean environment of the image's Env (the script then exports the
 * job's variables over it), chroot into the image root (as the image's user, when it names one),
 * the entrypoint, then the shell detection with the stage script on stdin.
 */
export function userStageCommand(
  config: ImageRuntimeConfig,
  entrypoint: readonly string[],
  user?: ResolvedUser,
): string[] {
  const env = [...config.env];
  if (!env.some((entry) => entry.startsWith('PATH='))) env.push(`PATH=${DEFAULT_PATH}`);
  if (!env.some((entry) => entry.startsWith('HOME='))) env.push(`HOME=${user?.home ?? '/root'}`);
  const chroot = user
    ? [CHROOT_AS_USER, `--userspec=${user.uid}:${user.gid}`, `--groups=${user.groups.join(',')}`]
    : [GUEST_BUSYBOX, 'chroot'];
  return [GUEST_BUSYBOX, 'env', '-i', ...env, ...chroot, IMAGE_ROOT, ...entrypoint, 'sh', '-c', DETECT_SHELL_SCRIPT];
}

/**
 * The argv for a helper stage (sources, caches, artifacts) of a job in an image: bash in the
 * helper root under `umask 0000`, as gitlab-runner's helper runs them, so a build user who is
 * not root can write the checkout (FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR turns it off).
 */
export const HELPER_STAGE_COMMAND: readonly string[] = ['bash', '-c', 'umask 0000; eval "$(cat)"'];
