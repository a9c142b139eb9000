// The VMM-neutral interface: what the VM executor needs from QEMU or Firecracker. Nothing here
// is specific to one VMM; disks follow src/vmm/guest-contract.ts (raw files only).

export interface VmDisks {
  /** The image's ext4 root, attached read-only and shared by every VM. */
  rootfs: string;
  /** Per-job sparse raw file; the guest formats it and puts the overlay's upper layer on it. */
  scratch: string;
  /** Per-job raw file holding the seed tar (keys, network, hostname). */
  seed: string;
  /** The job's container image (src/oci), read-only and shared; /dev/vdd when present. */
  jobImage?: string;
  /** The job's service images (src/oci), read-only and shared, after the job image (guest contract). */
  services?: string[];
}

export type VmNetwork =
  /** User-mode networking (QEMU slirp): the guest's sshd is forwarded to 127.0.0.1:sshForwardPort. */
  | { mode: 'user'; sshForwardPort: number }
  /** A TAP device prepared by src/net (both VMMs). */
  | { mode: 'tap'; tapName: string; mac: string; /** The guest's address, for SSH over the TAP network. */ guestIp?: string };

/** How the host reaches the guest's sshd. */
export type SshEndpoint =
  | { kind: 'tcp'; host: string; port: number }
  /** Firecracker's hybrid vsock: a host unix socket with a `CONNECT <port>` handshake. */
  | { kind: 'unix-connect'; path: string; port: number };

export interface VmSpec {
  id: string;
  vcpus: number;
  memoryMb: number;
  kernelPath: string;
  initrdPath: string;
  kernelCmdline: string;
  disks: VmDisks;
  network: VmNetwork;
  /** The serial console is written here (size-bounded by the driver). */
  consoleLogPath: string;
  /** A private (0700) per-VM directory for sockets and pid files; the driver removes what it made. */
  runtimeDir: string;
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface VmInstance {
  pid: number;
  sshEndpoint: SshEndpoint;
  /** The VMM's control sockets by role (e.g. `qmp`, `api`, `vsock`), for a VM handle. */
  sockets?: Readonly<Record<string, string>>;
  /** Resolves when the VMM process has exited (never rejects). */
  exited: Promise<VmExit>;
  /** Graceful shutdown, then kill after graceMs. Idempotent; always completes. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** The last maxBytes of the serial console, for boot-failure reports. */
  consoleTail(maxBytes: number): string;
  /** Resolves when `text` appears on the serial console (drivers that capture it in-process). */
  waitForConsole?(text: string): Promise<void>;
}

export interface Vmm {
  /** "qemu" or "firecracker". */
  readonly name: string;
  /** One line for the job trace, e.g. "QEMU 7.2 microvm (TCG)". */
  describe(): Promise<string>;
  start(spec: VmSpec, signal?: AbortSignal): Promise<VmInstance>;
}
