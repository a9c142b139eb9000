// The typed, defaults-applied view of config.toml. Key names follow gitlab-runner's
// config.toml; fields are camelCase here and mapped back to the TOML names in schema.ts.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['runner', 'text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const EXECUTORS = ['shell', 'qemu', 'firecracker'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export const VM_ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;
export type VmAccelerator = (typeof VM_ACCELERATORS)[number];

export const VM_NETWORK_MODES = ['user', 'tap'] as const;
export type VmNetworkMode = (typeof VM_NETWORK_MODES)[number];

export interface TartConfig {
  /** Max jobs across all runners. */
  concurrent: number;
  /** Seconds between job requests of one runner (gitlab-runner's pacing). */
  checkInterval: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** `host:port` of the metrics/health server; absent = no server. */
  listenAddress?: string;
  /** Seconds a forceful shutdown waits for jobs to clean up. */
  shutdownTimeout: number;
  runners: RunnerConfig[];
}

export interface RunnerConfig {
  name: string;
  url: string;
  /** Runner id GitLab returned at registration/verification; 0 = unknown. */
  id: number;
  token: string;
  tokenObtainedAt?: Date;
  /** Absent = the token never expires (gitlab-runner writes 0001-01-01T00:00:00Z). */
  tokenExpiresAt?: Date;
  executor: ExecutorName;
  /** Max concurrent jobs of this entry; 0 = no limit besides `concurrent`. */
  limit: number;
  requestConcurrency: number;
  buildsDir?: string;
  cacheDir?: string;
  /** `KEY=value` entries added to every job's variables. */
  environment: string[];
  /** Job log limit in KiB. */
  outputLimit: number;
  cloneUrl?: string;
  tlsCaFile?: string;
  preGetSourcesScript?: string;
  postGetSourcesScript?: string;
  shell: 'bash';
  vm: VmConfig;
  firecracker: FirecrackerConfig;
  network: NetworkConfig;
}

/** `[runners.vm]`: shared by the qemu and firecracker executors. */
export interface VmConfig {
  /** Image directory (kernel, initrd, rootfs). */
  image: string;
  vcpus: number;
  memoryMb: number;
  /** Size of the per-job scratch disk (sparse). */
  diskSizeMb: number;
  /** Seconds from VM start until the guest's sshd must answer. */
  bootTimeout: number;
  accel: VmAccelerator;
  network: VmNetworkMode;
}

/** `[runners.firecracker]`. */
export interface FirecrackerConfig {
  binary: string;
  jailer: string;
  useJailer: boolean;
  uid?: number;
  gid?: number;
  chrootBase: string;
}

/** `[runners.network]`: TAP networking and egress policy. */
export interface NetworkConfig {
  bridge: string;
  /** IPv4 CIDR that guest addresses are allocated from. */
  subnet: string;
  /** `ip` or `ip:port` exceptions to `denyRanges`. */
  allowHosts: string[];
  /** IPv4 CIDRs guests may not reach. */
  denyRanges: string[];
}
