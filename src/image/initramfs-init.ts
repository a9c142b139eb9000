// The initramfs's /init (busybox sh): load the virtio/overlay modules, format the scratch disk,
// build the overlay root (lower = read-only rootfs, upper = scratch) and switch_root into the
// guest init. Implements the disk half of src/vmm/guest-contract.ts.
import { GUEST_DEVICES } from '../vmm/guest-contract.js';

/** Where the guest init lives inside the rootfs. */
export const GUEST_INIT_PATH = '/sbin/tart-init';

/** Busybox applets the script uses (each becomes a /bin symlink in the initramfs). */
export const INITRAMFS_APPLETS = [
  'sh',
  'mount',
  'umount',
  'insmod',
  'mkdir',
  'switch_root',
  'sleep',
  'cat',
  'echo',
  'test',
];

/**
 * Renders /init. `modules` are initramfs paths (lib/modules/<name>.ko) in load order.
 * mke2fs comes from the rootfs itself (run through its own dynamic loader), so the initramfs
 * carries only busybox, whose mke2fs cannot make ext4. Paths are the merged-/usr real files, since
 * the rootfs's /lib64 loader link is absolute and would resolve inside the initramfs.
 */
export function renderInitramfsInit(options: { modules: readonly string[] }): string {
  const { rootfs, scratch } = GUEST_DEVICES;
  return `#!/bin/sh
# tart initramfs init: modules, scratch disk, overlay root, then ${GUEST_INIT_PATH}.
export PATH=/bin

fail() {
  echo "tart-initramfs: FAILED: $*"
  # No shell to fall back to: end the VM (sysrq 'b' reboots; VMMs run with reboot=exit).
  echo b > /proc/sysrq-trigger
  sleep 5
}

mount -t proc proc /proc
mount -t devtmpfs -o mode=0755 devtmpfs /dev || fail "mount devtmpfs"
exec </dev/console >/dev/console 2>&1
read -r uptime _ < /proc/uptime
echo "tart-initramfs: started at \${uptime} s"

for module in ${options.modules.join(' ')}; do
  insmod "/$module" || fail "insmod $module"
done

# virtio-blk probes synchronously on insmod, but give devtmpfs a moment on slow emulation.
for device in ${rootfs} ${scratch}; do
  tries=0
  while [ ! -b "$device" ]; do
    tries=$((tries + 1))
    [ "$tries" -gt 100 ] && fail "no block device $device"
    sleep 0.05
  done
done

mkdir -p /lower /scratch /newroot
# noload: the shared image is never written, so never replay a journal either.
mount -t ext4 -o ro,noload ${rootfs} /lower || fail "mount rootfs ${rootfs}"

# A fresh scratch disk per job: no journal, lazy inode tables (no zeroing under emulation).
# UUID and hash seed come from the kernel's non-blocking generator: mke2fs's own getrandom()
# blocks until the CRNG is seeded, seconds under TCG when the VM has no virtio-rng.
read -r scratch_uuid < /proc/sys/kernel/random/uuid
read -r hash_seed < /proc/sys/kernel/random/uuid
MKE2FS_CONFIG=/lower/etc/mke2fs.conf /lower/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \\
  --library-path /lower/usr/lib/x86_64-linux-gnu \\
  /lower/usr/sbin/mke2fs -q -F -t ext4 -O ^has_journal -U "$scratch_uuid" \\
  -E lazy_itable_init=1,nodiscard,hash_seed="$hash_seed" -m 0 -L tart-scratch ${scratch} \\
  || fail "mke2fs ${scratch}"
mount -t ext4 -o noinit_itable,nobarrier ${scratch} /scratch || fail "mount scratch ${scratch}"
mkdir -p /scratch/upper /scratch/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/scratch/upper,workdir=/scratch/work /newroot \\
  || fail "mount overlay root"

mount --move /dev /newroot/dev || fail "move /dev"
read -r uptime _ < /proc/uptime
echo "tart-initramfs: root ready at \${uptime} s"
umount /proc
exec switch_root /newroot ${GUEST_INIT_PATH}
`;
}
