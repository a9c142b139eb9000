// TEMPORARY mirror of the VMM-neutral interface described for src/vmm/types.ts (not yet written
// when this driver was). Replace with re-exports from '../types.js' once that file exists.

export interface VmDisks {
  rootfs: string;
  scratch: string;
  seed: string;
}

export type VmNetwork = { mode: 'user'; sshForwardPort: number } | { mode: 'tap'; tapName: string; mac: string };

export type SshEndpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'unix-connect'; path: string; port: number };

export interface VmSpec {
  id: string;
  vcpus: number;
  memoryMb: number;
  kernelPath: string;
  initrdPath: string;
  kernelCmdline: string;
  disks: VmDisks;
  network: VmNetwork;
  consoleLogPath: string;
  runtimeDir: string;
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface VmInstance {
  pid: number;
  sshEndpoint: SshEndpoint;
  exited: Promise<VmExit>;
  stop(options?: { graceMs?: number }): Promise<void>;
  consoleTail(maxBytes: number): string;
}

export interface Vmm {
  start(spec: VmSpec, signal?: AbortSignal): Promise<VmInstance>;
}
