// config.toml's keys, types and defaults, in gitlab-runner's spelling. docs/configuration.md
// documents the same table for people; keep the two in step.
import {
  anyInteger,
  boolean,
  cidr,
  dateTime,
  emptyMeansUnset,
  environmentEntry,
  featureFlagTable,
  goDuration,
  hostAndPort,
  httpUrl,
  integer,
  ipv4Cidr,
  list,
  listenAddress,
  logLevel,
  oneOf,
  string,
  stringOrList,
  type Decoder,
} from './decoders.js';
import { expanded, rememberTemplates } from './env-expansion.js';
import {
  isTable,
  optional,
  optionalTable,
  required,
  table,
  tableArray,
  withDefault,
  type Field,
  type Shape,
  type TableCheck,
} from './fields.js';
import {
  DEFAULT_CHECK_INTERVAL_SECONDS,
  DEFAULT_OUTPUT_LIMIT_KIB,
  DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
} from '../model/defaults.js';
import { formatGoDuration } from '../model/go-duration.js';
import { feedVmFromDocker } from './docker-leftovers.js';
import { configServiceShape } from './services.js';
import { foreignKeys, GLOBAL_IGNORED, RUNNER_IGNORED } from './foreign-keys.js';
import {
  CACHE_TYPES,
  EXECUTORS,
  LOG_FORMATS,
  LOG_LEVEL_ALIASES,
  LOG_LEVELS,
  S3_AUTHENTICATION_TYPES,
  VM_ACCELERATORS,
  VM_NETWORK_MODES,
  type CacheConfig,
  type FirecrackerConfig,
  type NetworkConfig,
  type RunnerConfig,
  type S3CacheConfig,
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

/** The system user a guarded user-mode QEMU runs as (the Debian package creates it). */
export const DEFAULT_VM_USER = 'tart-vm';

const PULL_POLICY_NAMES = ['always', 'if-not-present', 'never'] as const;

const vmShape: Shape<VmConfig> = {
  image: withDefault('image', string({ nonEmpty: true }), (defaults) => defaults.imageDir),
  vcpus: withDefault('vcpus', integer(1), 2),
  memoryMb: withDefault('memory_mb', integer(128), 1024),
  diskSizeMb: withDefault('disk_size_mb', integer(64), 8192),
  bootTimeout: withDefault('boot_timeout', integer(1), 120),
  accel: withDefault('accel', oneOf(VM_ACCELERATORS), 'auto'),
  network: withDefault('network', oneOf(VM_NETWORK_MODES), 'user'),
  hostGuard: withDefault('host_guard', boolean, true),
  vmUser: withDefault('vm_user', string({ nonEmpty: true }), DEFAULT_VM_USER),
  idleCount: withDefault('idle_count', integer(0), 0),
  idleTime: withDefault('idle_time', integer(0), 1800),
  defaultImage: optional('default_image', string({ nonEmpty: true })),
  allowedImages: withDefault('allowed_images', list(string({ nonEmpty: true })), []),
  allowedServices: withDefault('allowed_services', list(string({ nonEmpty: true })), []),
  pullPolicy: optional('pull_policy', stringOrList(oneOf(PULL_POLICY_NAMES))),
  allowedPullPolicies: withDefault('allowed_pull_policies', stringOrList(oneOf(PULL_POLICY_NAMES)), []),
  imageStoreSizeMb: optional('image_store_size_mb', integer(1)),
  imageStore: optional('image_store', string({ nonEmpty: true })),
  insecureRegistries: withDefault('insecure_registries', list(string({ nonEmpty: true })), []),
  waitForServicesTimeout: optional('wait_for_services_timeout', anyInteger),
  servicesLimit: optional('services_limit', anyInteger),
  services: tableArray('services', configServiceShape),
  user: optional('user', string({ nonEmpty: true })),
  allowedUsers: withDefault('allowed_users', list(string({ nonEmpty: true })), []),
  volumes: withDefault('volumes', list(string({ nonEmpty: true })), []),
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

// gitlab-runner treats check_interval/shutdown_timeout <= 0 as "use the default"; so do we.
const positiveOr = (fallback: number) => (raw: unknown) => {
  const decoded = integer(0)(raw);
  return decoded.ok && decoded.value === 0 ? { ok: true as const, value: fallback } : decoded;
};

// A count whose default also stands for 0, written once.
const positiveWithDefault = (key: string, fallback: number, options?: { alwaysWrite?: boolean }) =>
  withDefault(key, positiveOr(fallback), fallback, options);

// gitlab-runner lowercases these before comparing; "" means "not set".
function caseInsensitive<const T extends string>(values: readonly T[]): Decoder<T | undefined> {
  const exact = oneOf(values);
  return (raw) =>
    raw === '' ? { ok: true, value: undefined } : exact(typeof raw === 'string' ? raw.toLowerCase() : raw);
}

// Tart's scripts are bash; gitlab-runner's "" (executor default) and "sh" run them with bash too.
const bashShell: Decoder<'bash'> = (raw) =>
  raw === '' || raw === 'bash' || raw === 'sh'
    ? { ok: true, value: 'bash' }
    : { ok: false, expected: '"bash" or "sh" (Tart generates bash scripts only)' };

const optionalText = emptyMeansUnset(string());

// A Go duration key ("15m0s"): milliseconds in the typed config, Go's text in the file.
function duration(key: string): Field<number | undefined> {
  return {
    ...optional(key, goDuration),
    encode: (ms) => (ms === undefined ? undefined : formatGoDuration(ms)),
  };
}
const optionalPath = emptyMeansUnset(string({ nonEmpty: true }));

const s3Shape: Shape<S3CacheConfig> = {
  serverAddress: optional('ServerAddress', optionalText),
  accessKey: optional('AccessKey', optionalText),
  secretKey: optional('SecretKey', optionalText, { secret: true }),
  sessionToken: optional('SessionToken', optionalText, { secret: true }),
  bucketName: optional('BucketName', optionalText),
  bucketLocation: optional('BucketLocation', optionalText),
  insecure: withDefault('Insecure', boolean, false),
  authenticationType: optional('AuthenticationType', caseInsensitive(S3_AUTHENTICATION_TYPES)),
  serverSideEncryption: optional('ServerSideEncryption', optionalText),
  serverSideEncryptionKeyId: optional('ServerSideEncryptionKeyID', optionalText, { secret: true }),
  pathStyle: optional('PathStyle', boolean),
  dualStack: optional('DualStack', boolean),
  ignored: foreignKeys({ Accelerate: true, RoleARN: true, UploadRoleARN: true }),
};

const cacheShape: Shape<CacheConfig> = {
  type: optional('Type', caseInsensitive(CACHE_TYPES)),
  path: optional('Path', optionalText),
  shared: withDefault('Shared', boolean, false),
  maxUploadedArchiveSize: withDefault('MaxUploadedArchiveSize', integer(0), 0),
  s3: optionalTable('s3', s3Shape),
  ignored: foreignKeys({
    gcs: { AccessID: true, PrivateKey: true, CredentialsFile: true, BucketName: true, UniverseDomain: true },
    azure: { AccountName: true, AccountKey: true, ContainerName: true, StorageDomain: true },
  }),
};

export const runnerShape: Shape<RunnerConfig> = {
  name: withDefault('name', string(), (defaults) => defaults.hostname, { alwaysWrite: true }),
  url: expanded(required('url', httpUrl)),
  id: withDefault('id', integer(0), 0, { alwaysWrite: true }),
  token: expanded(required('token', string({ nonEmpty: true }), { secret: true })),
  tokenObtainedAt: optional('token_obtained_at', dateTime),
  tokenExpiresAt: optional('token_expires_at', dateTime),
  executor: required('executor', oneOf(EXECUTORS)),
  limit: withDefault('limit', integer(0), 0),
  requestConcurrency: withDefault('request_concurrency', integer(1), 1),
  buildsDir: optional('builds_dir', optionalPath),
  cacheDir: optional('cache_dir', optionalPath),
  environment: withDefault('environment', list(environmentEntry), []),
  outputLimit: positiveWithDefault('output_limit', DEFAULT_OUTPUT_LIMIT_KIB),
  cloneUrl: expanded(optional('clone_url', emptyMeansUnset(httpUrl))),
  tlsCaFile: optional('tls-ca-file', optionalPath),
  tlsCertFile: optional('tls-cert-file', optionalPath),
  tlsKeyFile: optional('tls-key-file', optionalPath),
  preGetSourcesScript: optional('pre_get_sources_script', optionalText),
  postGetSourcesScript: optional('post_get_sources_script', optionalText),
  preCloneScript: optional('pre_clone_script', optionalText),
  postCloneScript: optional('post_clone_script', optionalText),
  preBuildScript: optional('pre_build_script', optionalText),
  postBuildScript: optional('post_build_script', optionalText),
  debugTraceDisabled: optional('debug_trace_disabled', boolean),
  unhealthyRequestsLimit: optional('unhealthy_requests_limit', integer(0)),
  unhealthyIntervalMs: duration('unhealthy_interval'),
  customBuildDir: optionalTable('custom_build_dir', { enabled: optional('enabled', boolean) }),
  featureFlags: optional('feature_flags', featureFlagTable),
  cache: optionalTable('cache', cacheShape),
  ignored: foreignKeys(RUNNER_IGNORED),
  shell: withDefault('shell', bashShell, 'bash'),
  vm: table('vm', vmShape),
  firecracker: table('firecracker', firecrackerShape),
  network: table('network', networkShape),
};

// Firecracker has no user-mode networking: its runners default to, and require, TAP networking.
const checkRunner: TableCheck<RunnerConfig> = (runner, raw, path, context) => {
  rememberTemplates(
    runner,
    { url: runner.url, token: runner.token, clone_url: runner.cloneUrl },
    context.templates,
    path,
  );
  checkCache(runner.cache, path, (context.notices ??= []));
  feedVmFromDocker(runner, raw, path, context);
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

// GCS and Azure load but are not implemented; S3 is the shared cache Tart speaks.
function checkCache(cache: CacheConfig | undefined, path: string, notices: string[]): void {
  if (cache?.type === undefined) return;
  if (cache.type !== 's3') {
    notices.push(`${path}.cache: Type = "${cache.type}" is not supported yet; the local cache is used`);
    return;
  }
  if (cache.s3?.bucketName === undefined) {
    notices.push(`${path}.cache.s3: BucketName is not set; the local cache is used`);
    return;
  }
  const encryption = cache.s3.serverSideEncryption;
  if (encryption !== undefined && !S3_ENCRYPTION_NAMES.includes(encryption.toUpperCase()))
    notices.push(
      `${path}.cache.s3: unknown ServerSideEncryption value: ${encryption}; archives are uploaded without it`,
    );
}

// gitlab-runner's spellings (compared upper-cased), see src/cache/s3-client.ts.
const S3_ENCRYPTION_NAMES = ['S3', 'AES256', 'KMS', 'AWS:KMS', 'DSSE-KMS', 'AWS:KMS:DSSE'];

export const configShape: Shape<TartConfig> = {
  concurrent: withDefault('concurrent', integer(1), 1, { alwaysWrite: true }),
  checkInterval: positiveWithDefault('check_interval', DEFAULT_CHECK_INTERVAL_SECONDS, { alwaysWrite: true }),
  logLevel: withDefault('log_level', logLevel(LOG_LEVELS, LOG_LEVEL_ALIASES), 'info'),
  logFormat: withDefault('log_format', oneOf(LOG_FORMATS), 'runner'),
  listenAddress: optional('listen_address', listenAddress),
  shutdownTimeout: positiveWithDefault('shutdown_timeout', DEFAULT_SHUTDOWN_TIMEOUT_SECONDS, {
    alwaysWrite: true,
  }),
  connectionMaxAgeMs: duration('connection_max_age'),
  ignored: foreignKeys(GLOBAL_IGNORED),
  runners: tableArray('runners', runnerShape, checkRunner),
};
