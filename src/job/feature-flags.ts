// gitlab-runner's feature flags (helpers/featureflags/flags.go, 19.x defaults; protocol reference
// §8.8): resolved per job as `[runners.feature_flags]`, else the job's variable, else the default;
// every flag is exported to the job with its resolved value, and the header names the flags that
// differ from their defaults.
import type { JobVariable } from '../model/payload.js';

/** Flag → default, in gitlab-runner's order (the header lists flags in this order). */
export const FEATURE_FLAG_DEFAULTS: Readonly<Record<string, boolean>> = {
  FF_NETWORK_PER_BUILD: false,
  FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: false,
  FF_USE_DIRECT_DOWNLOAD: true,
  FF_USE_FASTZIP: true,
  FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR: false,
  FF_ENABLE_BASH_EXIT_CODE_CHECK: false,
  FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY: false,
  FF_USE_LEGACY_BASH_EVAL: false,
  FF_USE_POWERSHELL_PATH_RESOLVER: false,
  FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL: false,
  FF_SCRIPT_SECTIONS: false,
  FF_ENABLE_JOB_CLEANUP: false,
  FF_KUBERNETES_HONOR_ENTRYPOINT: false,
  FF_POSIXLY_CORRECT_ESCAPES: false,
  FF_RESOLVE_FULL_TLS_CHAIN: false,
  FF_DISABLE_POWERSHELL_STDIN: false,
  FF_USE_POD_ACTIVE_DEADLINE_SECONDS: true,
  FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: false,
  FF_SECRET_RESOLVING_FAILS_IF_MISSING: true,
  FF_PRINT_POD_EVENTS: false,
  FF_USE_GIT_BUNDLE_URIS: true,
  FF_USE_GIT_NATIVE_CLONE: false,
  FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR: false,
  FF_USE_INIT_WITH_DOCKER_EXECUTOR: false,
  FF_LOG_IMAGES_CONFIGURED_FOR_JOB: false,
  FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO: true,
  FF_CLEAN_UP_FAILED_CACHE_EXTRACT: false,
  FF_USE_WINDOWS_JOB_OBJECT: false,
  FF_TIMESTAMPS: true,
  FF_DISABLE_AUTOMATIC_TOKEN_ROTATION: false,
  FF_USE_LEGACY_GCS_CACHE_ADAPTER: false,
  FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR: false,
  FF_USE_LEGACY_S3_CACHE_ADAPTER: false,
  FF_GIT_URLS_WITHOUT_TOKENS: false,
  FF_WAIT_FOR_POD_TO_BE_REACHABLE: false,
  FF_MASK_ALL_DEFAULT_TOKENS: true,
  FF_EXPORT_HIGH_CARDINALITY_METRICS: false,
  FF_USE_FLEETING_ACQUIRE_HEARTBEATS: false,
  FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY: true,
  FF_USE_ADAPTIVE_REQUEST_CONCURRENCY: true,
  FF_USE_GITALY_CORRELATION_ID: true,
  FF_USE_GIT_PROACTIVE_AUTH: false,
  FF_HASH_CACHE_KEYS: false,
  FF_ENABLE_JOB_INPUTS_INTERPOLATION: true,
  FF_USE_JOB_ROUTER: false,
  FF_SCRIPT_TO_STEP_MIGRATION: false,
  FF_USE_PARALLEL_CACHE_TRANSFER: false,
  FF_USE_PARALLEL_ARTIFACT_TRANSFER: false,
  FF_CONCRETE: false,
  FF_SUSPENDABLE_ENVIRONMENTS: false,
  FF_USE_NATIVE_CONTAINER_STOP: false,
};

/** One flag's value for this job. */
export interface ResolvedFlag {
  name: string;
  value: boolean;
  /** gitlab-runner's default for it (undefined for a flag it does not know). */
  defaultValue: boolean | undefined;
}

/**
 * Every known flag, plus any other set in `[runners.feature_flags]`, resolved as gitlab-runner's
 * IsFeatureFlagOn: config, then the variable (Go's strconv.ParseBool; unparsable = unset), then the default.
 */
export function resolveFeatureFlags(
  configured: Readonly<Record<string, boolean>> | undefined,
  variables: readonly JobVariable[],
): ResolvedFlag[] {
  const fromVariables = new Map<string, boolean>();
  for (const variable of variables) {
    if (!variable.key.startsWith('FF_')) continue;
    const parsed = parseGoBool(variable.value);
    if (parsed === undefined) fromVariables.delete(variable.key);
    else fromVariables.set(variable.key, parsed);
  }
  const names = new Set([...Object.keys(FEATURE_FLAG_DEFAULTS), ...Object.keys(configured ?? {})]);
  return [...names].map((name) => {
    const defaultValue = FEATURE_FLAG_DEFAULTS[name];
    const value = configured?.[name] ?? fromVariables.get(name) ?? defaultValue ?? false;
    return { name, value, defaultValue };
  });
}

/** Whether a resolved flag is on. */
export function isFlagOn(flags: readonly ResolvedFlag[], name: string): boolean {
  return flags.some((flag) => flag.name === name && flag.value);
}

/** The header's `feature flags:` text: known flags whose value differs from the default; "" when none. */
export function featureFlagsSummary(flags: readonly ResolvedFlag[]): string {
  return flags
    .filter((flag) => flag.defaultValue !== undefined && flag.value !== flag.defaultValue)
    .map((flag) => `${flag.name}:${flag.value}`)
    .join(', ');
}

/** The FF_* variables gitlab-runner puts first in a job's variable list. */
export function featureFlagVariables(flags: readonly ResolvedFlag[]): JobVariable[] {
  return flags.map((flag) => ({ key: flag.name, value: String(flag.value), public: true, masked: false }));
}

// Go's strconv.ParseBool.
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
