// Keys gitlab-runner 19.x knows that Tart accepts without using: a config.toml written by
// gitlab-runner loads unchanged, each such key is named in one startup warning, and saving the
// file writes them back as they were. Sources: gitlab-runner common/config.go (RunnerSettings,
// RunnerConfig, Config, DockerConfig, Service, SessionServer).
import { isTable, joinPath, unknownKey, type Field, type FieldContext } from './fields.js';

/** `true`: any value (e.g. a whole executor table); an object: a table, or array of tables, with these keys. */
export type KeySpec = true | { readonly [key: string]: KeySpec };

/** One accepted-but-unused key found in a file; `whole` marks a table taken as a whole. */
export interface IgnoredKey {
  path: string;
  whole: boolean;
}

const ANY = true;
const keys = (names: string[]): Record<string, KeySpec> =>
  Object.fromEntries(names.map((name) => [name, ANY]));

const DOCKER_SERVICE: KeySpec = keys(['name', 'alias', 'command', 'entrypoint', 'environment']);

/** `[runners.docker]`, so a docker runner's leftovers load and typos in them still get a hint. */
export const DOCKER_KEYS: Record<string, KeySpec> = {
  ...keys([
    'host',
    'tls_cert_path',
    'tls_verify',
    'hostname',
    'image',
    'runtime',
    'memory',
    'memory_swap',
    'memory_reservation',
    'cgroup_parent',
    'cpuset_cpus',
    'cpuset_mems',
    'cpus',
    'cpu_shares',
    'dns',
    'dns_search',
    'privileged',
    'services_privileged',
    'disable_entrypoint_overwrite',
    'user',
    'allowed_users',
    'group_add',
    'userns_mode',
    'cap_add',
    'cap_drop',
    'oom_kill_disable',
    'oom_score_adjust',
    'security_opt',
    'services_security_opt',
    'devices',
    'device_cgroup_rules',
    'gpus',
    'services_devices',
    'disable_cache',
    'volumes',
    'volume_driver',
    'volume_driver_ops',
    'cache_dir',
    'extra_hosts',
    'volumes_from',
    'network_mode',
    'ipcmode',
    'mac_address',
    'links',
    'services_limit',
    'service_memory',
    'service_memory_swap',
    'service_memory_reservation',
    'service_cgroup_parent',
    'service_slot_cgroup_template',
    'service_cpuset_cpus',
    'service_cpus',
    'service_cpu_shares',
    'service_gpus',
    'wait_for_services_timeout',
    'allowed_images',
    'allowed_privileged_images',
    'allowed_privileged_services',
    'allowed_pull_policies',
    'allowed_services',
    'pull_policy',
    'isolation',
    'shm_size',
    'tmpfs',
    'services_tmpfs',
    'sysctls',
    'helper_image',
    'helper_image_flavor',
    'container_labels',
    'enable_ipv6',
    'ulimit',
    'network_mtu',
    'log_options',
  ]),
  services: DOCKER_SERVICE,
};

/** Executor tables of executors Tart does not have: accepted whole. */
export const OTHER_EXECUTOR_TABLES = [
  'kubernetes',
  'ssh',
  'parallels',
  'virtualbox',
  'machine',
  'custom',
  'autoscaler',
  'instance',
] as const;

/** `[[runners]]` keys Tart accepts without using. */
export const RUNNER_IGNORED: Record<string, KeySpec> = {
  ...keys([
    'strict_check_interval',
    'job_status_final_update_retry_limit',
    'safe_directory_checkout',
    'clean_git_config',
    'proxy_exec',
    'labels',
    'use_slot_cgroups',
    'slot_cgroup_template',
    'step_runner_image',
    'prepare_timeout',
    'get_sources_timeout',
    'referees',
    'monitoring',
    'artifact',
    ...OTHER_EXECUTOR_TABLES,
  ]),
  docker: DOCKER_KEYS,
};

/** Global keys Tart accepts without using. */
export const GLOBAL_IGNORED: Record<string, KeySpec> = {
  ...keys(['user', 'sentry_dsn', 'labels', 'experimental']),
  session_server: keys(['listen_address', 'advertise_address', 'session_timeout']),
};

/** A field covering `spec`'s keys of a table: shape-checked, kept verbatim, reported as ignored. */
export function foreignKeys(spec: Record<string, KeySpec>): Field<Record<string, unknown> | undefined> {
  return {
    key: '',
    keys: Object.keys(spec),
    decode(raw, path, context) {
      if (raw === undefined) return undefined;
      const table = raw as Record<string, unknown>;
      for (const [key, value] of Object.entries(table)) {
        checkShape(value, spec[key] ?? ANY, joinPath(path, key), context);
        recordIgnored(value, spec[key] ?? ANY, joinPath(path, key), context);
      }
      return table;
    },
    encode: (value) => value as never,
  };
}

// Unknown keys inside a described table are errors with a did-you-mean, as everywhere else.
function checkShape(raw: unknown, spec: KeySpec, path: string, context: FieldContext): void {
  if (spec === true) return;
  if (Array.isArray(raw) && raw.every(isTable)) {
    raw.forEach((item, index) => checkShape(item, spec, `${path}[${index}]`, context));
    return;
  }
  if (!isTable(raw)) {
    context.issues.push({ code: 'CONFIG_INVALID_VALUE', path, message: 'expected a table' });
    return;
  }
  const known = Object.keys(spec);
  for (const [key, value] of Object.entries(raw)) {
    const child = spec[key];
    if (child === undefined) context.issues.push(unknownKey(joinPath(path, key), key, known));
    else checkShape(value, child, joinPath(path, key), context);
  }
}

// Keys set to something other than gitlab-runner's zero value are reported (leaves one by one,
// whole tables once): register writes `privileged = false`, `shm_size = 0` and empty tables.
function recordIgnored(raw: unknown, spec: KeySpec, path: string, context: FieldContext): void {
  if (isTable(raw) && spec !== true) {
    for (const [key, value] of Object.entries(raw))
      recordIgnored(value, spec[key] ?? ANY, joinPath(path, key), context);
    return;
  }
  if (isZeroValue(raw)) return;
  (context.ignored ??= []).push({ path, whole: isTable(raw) });
}

function isZeroValue(raw: unknown): boolean {
  if (raw === false || raw === 0 || raw === '') return true;
  if (Array.isArray(raw)) return raw.length === 0;
  return isTable(raw) && Object.keys(raw).length === 0;
}

/** One line naming every ignored key, by table: `ignored by Tart: [session_server] session_timeout; [runners.docker] image, privileged`. */
export function ignoredKeysWarning(ignored: readonly IgnoredKey[]): string | undefined {
  if (ignored.length === 0) return undefined;
  const byTable = new Map<string, Set<string>>();
  for (const { path, whole } of ignored) {
    const generic = path.replace(/\[\d+\]/g, '');
    const cut = generic.lastIndexOf('.');
    const [table, key] = whole
      ? [generic, '']
      : cut < 0
        ? ['', generic]
        : [generic.slice(0, cut), generic.slice(cut + 1)];
    const names = byTable.get(table) ?? new Set<string>();
    if (key !== '') names.add(key);
    byTable.set(table, names);
  }
  const parts = [...byTable].map(([table, names]) => {
    const header = table === '' ? '' : table === 'runners' ? '[[runners]]' : `[${table}]`;
    return [header, [...names].join(', ')].filter((part) => part !== '').join(' ');
  });
  return `ignored by Tart: ${parts.join('; ')}`;
}
