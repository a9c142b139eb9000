// The typed, defaults-applied view of config.toml. Key names follow gitlab-runner's
// config.toml; fields are camelCase here and mapped back to the TOML names in schema.ts.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** logrus spellings gitlab-runner accepts for `log_level`, mapped to Tart's levels (Tart has no trace level). */
export const LOG_LEVEL_ALIASES: Record<string, LogLevel> = { warning: 'warn', trace: 'debug' };

export const CACHE_TYPES = ['s3', 'gcs', 'azure'] as const;
export type CacheType = (typeof CACHE_TYPES)[number];

export const S3_AUTHENTICATION_TYPES = ['access-key', 'iam'] as const;
export type S3AuthenticationType = (typeof S3_AUTHENTICATION_TYPES)[number];

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
  /** `connection_max_age` (ms). Tart opens a connection per request, so none gets older. */
  connectionMaxAgeMs?: number;
  /** gitlab-runner keys Tart accepts without using (`[session_server]`, `sentry_dsn`, …), kept as written. */
  ignored?: Record<string, unknown>;
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
  /** Client certificate and key for GitLab (TLS client auth). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  preGetSourcesScript?: string;
  postGetSourcesScript?: string;
  /** Deprecated spellings of the two above; used when those are not set. */
  preCloneScript?: string;
  postCloneScript?: string;
  /** Run in the step_* shell before / after the job's own lines. */
  preBuildScript?: string;
  postBuildScript?: string;
  /** true: CI_DEBUG_TRACE is ignored. */
  debugTraceDisabled?: boolean;
  /** Unhealthy job requests before the runner pauses (default 3). */
  unhealthyRequestsLimit?: number;
  /** How long it pauses (ms; default 1 h). */
  unhealthyIntervalMs?: number;
  /** `[runners.custom_build_dir] enabled`; undefined = the executor's default. */
  customBuildDir?: { enabled?: boolean };
  /** `[runners.feature_flags]`: they beat the job's FF_* variables. */
  featureFlags?: Record<string, boolean>;
  cache?: CacheConfig;
  /** gitlab-runner keys Tart accepts without using ([runners.docker], …), kept as written. */
  ignored?: Record<string, unknown>;
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
  /**
   * network = "user" (QEMU): QEMU runs as `vmUser` and an nftables guard rejects its traffic to
   * this host's own addresses except the GitLab of `url`/`clone_url`. false = jobs reach the
   * host's loopback (and `tart doctor` warns).
   */
  hostGuard: boolean;
  /** `user[:group]` (names or numbers) a guarded QEMU runs as; never root. */
  vmUser: string;
  /** VMs kept booted and ready for this runner's next jobs (0 = no pool: every job boots cold). */
  idleCount: number;
  /** Seconds a pooled VM may wait for a job before it is replaced by a fresh one (0 = never). */
  idleTime: number;
  /** Container image for jobs that name none; unset = Tart's own root (src/oci). */
  defaultImage?: string;
  /** Globs a job's image must match (empty = any). */
  allowedImages: string[];
  /** Globs a job's service images must match (empty = any). */
  allowedServices: string[];
  /** always | if-not-present | never, tried in order; unset = [always]. */
  pullPolicy?: PullPolicyName[];
  allowedPullPolicies: PullPolicyName[];
  /** LRU limit of the image store; unset = unlimited. */
  imageStoreSizeMb?: number;
  /** Where pulled images live; default /var/lib/tart/image-store (root). */
  imageStore?: string;
  /** Registries reached over plain HTTP / unverified TLS besides loopback ones. */
  insecureRegistries: string[];
  /** Seconds each service gets to listen: unset/0 = 30, negative = no readiness check. */
  waitForServicesTimeout?: number;
  /** Most services a job may have: unset or negative = unlimited. */
  servicesLimit?: number;
  /** Services every job gets, before the job's own `services:`. */
  services: ConfigService[];
  /** The user the job image's stages run as, over `image:docker:user` and the image's USER. */
  user?: string;
  /** Users `image:docker:user` may name (empty: only `user`, or anyone when that is unset too). */
  allowedUsers: string[];
  /**
   * gitlab-runner's `volumes`: a container path is a volume of the job's, shared by its root and
   * every service's; a `host:container[:mode]` bind cannot reach a microVM and is skipped with a warning.
   */
  volumes: string[];
}

/** `[[runners.vm.services]]` (or `[[runners.docker.services]]`): a service every job gets. */
export interface ConfigService {
  /** The image, `$VAR`-expanded against the job's variables like a job service's. */
  name: string;
  /** One or more aliases separated by commas and/or spaces. */
  alias?: string;
  entrypoint?: string[];
  command?: string[];
  /** KEY=value entries added to the service's environment, as `services:variables` are. */
  environment: string[];
}

export type PullPolicyName = 'always' | 'if-not-present' | 'never';

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

/** `[runners.cache]`: where caches go besides the local store. */
export interface CacheConfig {
  /** undefined (or "") = local cache only. */
  type?: CacheType;
  /** Prefix inside the bucket. */
  path?: string;
  /** Without `runner/<short token>/` in object names: every runner sees the same caches. */
  shared: boolean;
  /** Bytes; 0 = no limit. */
  maxUploadedArchiveSize: number;
  s3?: S3CacheConfig;
  /** `[runners.cache.gcs]` / `[runners.cache.azure]`: loaded, not supported yet. */
  ignored?: Record<string, unknown>;
}

/** `[runners.cache.s3]`. */
export interface S3CacheConfig {
  /** `host[:port]`, without a scheme; absent = AWS. */
  serverAddress?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  bucketName?: string;
  bucketLocation?: string;
  /** http instead of https. */
  insecure: boolean;
  /** undefined = gitlab-runner's rule: access-key when server, key and secret are all set, else iam. */
  authenticationType?: S3AuthenticationType;
  serverSideEncryption?: string;
  serverSideEncryptionKeyId?: string;
  pathStyle?: boolean;
  dualStack?: boolean;
  ignored?: Record<string, unknown>;
}
