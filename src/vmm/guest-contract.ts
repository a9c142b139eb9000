// The contract between the host (VMM drivers, VM executor) and the guest image (src/image):
// which disk is which, what the seed disk holds, and what the guest's init does with it.
// Both VMMs use raw disks only, so the same contract serves QEMU and Firecracker.
//
// Disks, in attach order (virtio-blk; the guest sees them as /dev/vda, /dev/vdb, /dev/vdc):
//   1. rootfs  — the image's ext4 root, attached READ-ONLY and shared by every VM.
//   2. scratch — a per-job sparse raw file (created with truncate: O(1) in the image size).
//                The initramfs formats it (ext4) and mounts the root as overlayfs:
//                lower = rootfs (ro), upper/work = on scratch. All job writes land here.
//   3. seed    — a per-job raw file holding a plain tar archive (SEED_FILES below), mode 0600
//                on the host in a 0700 directory. Read once by init, never mounted.
//
// The kernel command line carries no secret (it is visible in the host's process list for QEMU).

export const GUEST_DEVICES = { rootfs: '/dev/vda', scratch: '/dev/vdb', seed: '/dev/vdc', jobImage: '/dev/vdd' } as const;

/**
 * A static busybox in the guest's root (the helper root), so that a boot command is one exec of
 * a static binary with its applets instead of dynamically linked programs (~80 ms each under
 * TCG). Images built before it lack it: the image manifest's helperBusybox says it is there.
 */
export const HELPER_ROOT_BUSYBOX = '/usr/lib/tart/busybox';

/**
 * The device of each service's image disk (#11): attached after the job image (when the job has
 * one) in `services:` order, so /dev/vdd or /dev/vde onwards.
 */
export function serviceDiskDevices(hasJobImage: boolean, count: number): string[] {
  const first = hasJobImage ? 4 : 3;
  return Array.from({ length: count }, (_, index) => `/dev/vd${String.fromCharCode(97 + first + index)}`);
}

/** Files inside the seed tar. All optional except authorized_keys and the host key pair. */
export const SEED_FILES = {
  /** OpenSSH authorized_keys line(s) for root: the per-VM ephemeral client key. */
  authorizedKeys: 'authorized_keys',
  /** The per-VM host key (OpenSSH private key format) and its .pub; the runner pins the public key. */
  hostKey: 'ssh_host_ed25519_key',
  hostKeyPub: 'ssh_host_ed25519_key.pub',
  /** Shell-sourceable KEY=VALUE lines: see GuestNetworkConfig. */
  network: 'network.env',
  /** One line: the guest hostname. */
  hostname: 'hostname',
} as const;

/**
 * Guest network settings written to network.env as ADDRESS=10.0.2.15/24, GATEWAY=10.0.2.2,
 * DNS=10.0.2.3 (space-separated list allowed), MTU=1500. The guest's init applies them with
 * iproute2 to eth0 and writes /etc/resolv.conf.
 */
export interface GuestNetworkConfig {
  address: string;
  gateway: string;
  dns: string[];
  mtu?: number;
}

/** QEMU user-mode (slirp) defaults. */
export const USER_MODE_NETWORK: GuestNetworkConfig = {
  address: '10.0.2.15/24',
  gateway: '10.0.2.2',
  dns: ['10.0.2.3'],
};

/** The guest's sshd listens here; the runner logs in as root with the ephemeral key. */
export const GUEST_SSH_PORT = 22;
export const GUEST_SSH_USER = 'root';

/** vsock port that the guest bridges to sshd (Firecracker hybrid vsock, QEMU vhost-vsock). */
export const GUEST_VSOCK_SSH_PORT = 22;

/**
 * Init prints this line on the serial console when sshd is started, so drivers can log
 * "kernel to init" and "sshd ready" timings.
 */
export const GUEST_READY_MARKER = 'tart-guest: sshd started';

/**
 * Optional seed files the guest's init (image/guest-init.ts) understands beyond the contract's SEED_FILES:
 * `random_seed` (≥ 32 random bytes, credited to the kernel pool) and `time` (Unix seconds for the clock).
 */
export const EXTRA_SEED_FILES = { randomSeed: 'random_seed', time: 'time', bootCommand: 'boot_command' } as const;

/**
 * `boot_command` (optional): an argv, each argument ended by a NUL byte, that the guest's init runs
 * as root once the network is configured, beside sshd's start (the job image's root, #10). Its
 * output (stdout and stderr) and exit status reach the host on the serial console, before the
 * ready marker: one line per output line after BOOT_COMMAND_CONSOLE.output, then one line
 * BOOT_COMMAND_CONSOLE.exit and the status. It carries no secret (the console is a host log).
 */
export const BOOT_COMMAND_CONSOLE = { output: 'tart-boot-command: ', exit: 'tart-boot-command-exit: ' } as const;

/** What the boot command did, read from the console text up to the ready marker. */
export interface BootCommandResult {
  exitCode: number;
  output: string;
}

/**
 * The boot command's result in `console` (its last report), or undefined when the console holds
 * none (a guest image whose init predates boot_command ignores the file).
 */
export function readBootCommandResult(console: string): BootCommandResult | undefined {
  const lines = console.split('\n').map((line) => line.replace(/\r$/, ''));
  const exitAt = lines.findLastIndex((line) => line.startsWith(BOOT_COMMAND_CONSOLE.exit));
  if (exitAt < 0) return undefined;
  const exitCode = Number(lines[exitAt]!.slice(BOOT_COMMAND_CONSOLE.exit.length).trim());
  if (!Number.isInteger(exitCode)) return undefined;
  // Kernel messages may fall between the output lines: they are skipped, not the end of it.
  const output: string[] = [];
  for (let index = exitAt - 1; index >= 0 && !lines[index]!.startsWith(BOOT_COMMAND_CONSOLE.exit); index--) {
    if (lines[index]!.startsWith(BOOT_COMMAND_CONSOLE.output)) output.unshift(lines[index]!.slice(BOOT_COMMAND_CONSOLE.output.length));
  }
  return { exitCode, output: output.join('\n') };
}
