// config.toml's keys, types and defaults, in gitlab-runner's spelling. docs/configuration.md
// documents the same table for people; keep the two in step.
import {
  boolean,
  cidr,
  dateTime,
  environmentEntry,
  hostAndPort,
  httpUrl,
  integer,
  ipv4Cidr,
  list,
  listenAddress,
  oneOf,
  string,
} from './decoders.js';
import {
  isTable,
  optional,
  required,
  table,
  tableArray,
  withDefault,
  type Shape,
  type TableCheck,
} from './fields.js';
import {
  EXECUTORS,
  LOG_FORMATS,
  LOG_LEVELS,
  VM_ACCELERATORS,
  VM_NETWORK_MODES,
  type FirecrackerConfig,
  type NetworkConfig,
  type RunnerConfig,
  type TartConfig,
  type VmConfig,
} from './types.js';

/** Egress a job VM may not reach unless `allow_hosts` says so: private, CGNAT and link-local (cloud metadata). */
export const DEFAULT_DENY_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
];

const vmShape: Shape<VmConfig> = {
  image: withDefault('image', string({ nonEmpty: true }), (defaults) => defaults.imageDir),
  vcpus: withDefault('vcpus', integer(1), 2),
  memoryMb: withDefault('memory_mb', integer(128), 1024),
  diskSizeMb: withDefault('disk_size_mb', integer(64), 8192),
  bootTimeout: withDefault('boot_timeout', integer(1), 120),
  accel: withDefault('accel', oneOf(VM_ACCELERATORS), 'auto'),
  network: withDefault('network', oneOf(VM_NETWORK_MODES), 'user'),
};

const firecrackerShape: Shape<FirecrackerConfig> = {
  binary: withDefault('binary', string({ nonEmpty: true }), 'firecracker'),
  jailer: withDefault('jailer', string({ nonEmpty: true }), 'jailer'),
  useJailer: withDefault('use_jailer', boolean, false),
  uid: optional('uid', integer(0)),
  gid: optional('gid', integer(0)),
  chrootBase: withDefault('chroot_base', string({ nonEmpty: true }), '/srv/jailer'),
};

const networkShape: Shape<NetworkConfig> = {
  bridge: withDefault('bridge', string({ nonEmpty: true }), 'tart0'),
  subnet: withDefault('subnet', ipv4Cidr, '10.201.0.0/16'),
  allowHosts: withDefault('allow_hosts', list(hostAndPort), []),
  denyRanges: withDefault('deny_ranges', list(cidr), DEFAULT_DENY_RANGES),
};

export const runnerShape: Shape<RunnerConfig> = {
  name: withDefault('name', string(), (defaults) => defaults.hostname, { alwaysWrite: true }),
  url: required('url', httpUrl),
  id: withDefault('id', integer(0), 0, { alwaysWrite: true }),
  token: required('token', string({ nonEmpty: true }), { secret: true }),
  tokenObtainedAt: optional('token_obtained_at', dateTime),
  tokenExpiresAt: optional('token_expires_at', dateTime),
  executor: required('executor', oneOf(EXECUTORS)),
  limit: withDefault('limit', integer(0), 0),
  requestConcurrency: withDefault('request_concurrency', integer(1), 1),
  buildsDir: optional('builds_dir', string({ nonEmpty: true })),
  cacheDir: optional('cache_dir', string({ nonEmpty: true })),
  environment: withDefault('environment', list(environmentEntry), []),
  outputLimit: withDefault('output_limit', integer(1), 4096),
  cloneUrl: optional('clone_url', httpUrl),
  tlsCaFile: optional('tls-ca-file', string({ nonEmpty: true })),
  preGetSourcesScript: optional('pre_get_sources_script', string()),
  postGetSourcesScript: optional('post_get_sources_script', string()),
  shell: withDefault('shell', oneOf(['bash'] as const), 'bash'),
  vm: table('vm', vmShape),
  firecracker: table('firecracker', firecrackerShape),
  network: table('network', networkShape),
};

// Firecracker has no user-mode networking: its runners default to, and require, TAP networking.
const checkRunner: TableCheck<RunnerConfig> = (runner, raw, path, context) => {
  if (runner.executor !== 'firecracker' || runner.vm === undefined) return;
  const explicit = isTable(raw.vm) ? raw.vm.network : undefined;
  if (explicit === undefined) runner.vm.network = 'tap';
  else if (runner.vm.network === 'user') {
    context.issues.push({
      code: 'CONFIG_INVALID_VALUE',
      path: `${path}.vm.network`,
      message: 'the firecracker executor needs network = "tap" (Firecracker has no user-mode networking)',
    });
  }
};

// gitlab-runner treats check_interval/shutdown_timeout <= 0 as "use the default"; so do we.
const positiveOr = (fallback: number) => (raw: unknown) => {
  const decoded = integer(0)(raw);
  return decoded.ok && decoded.value === 0 ? { ok: true as const, value: fallback } : decoded;
};

export const configShape: Shape<TartConfig> = {
  concurrent: withDefault('concurrent', integer(1), 1, { alwaysWrite: true }),
  checkInterval: withDefault('check_interval', positiveOr(3), 3, { alwaysWrite: true }),
  logLevel: withDefault('log_level', oneOf(LOG_LEVELS), 'info'),
  logFormat: withDefault('log_format', oneOf(LOG_FORMATS), 'runner'),
  listenAddress: optional('listen_address', listenAddress),
  shutdownTimeout: withDefault('shutdown_timeout', positiveOr(30), 30, { alwaysWrite: true }),
  runners: tableArray('runners', runnerShape, checkRunner),
};
