// What Tart tells GitLab about itself: the `info` object of register/verify/request/update bodies
// (§2.1) with honest feature flags (§2.1.2), and the User-Agent (§0.4).

/** The gitlab-runner release whose protocol Tart speaks; GitLab compares runner versions in places. */
export const GITLAB_RUNNER_COMPAT_VERSION = '17.11.0';

/**
 * Every feature flag gitlab-runner sends (all keys are always sent, false included), set to what Tart
 * really implements. Declaring a feature makes GitLab send jobs that need it (§9.4); not declaring it
 * makes GitLab drop such jobs with `runner_unsupported`.
 */
export const TART_FEATURES = Object.freeze({
  variables: true,
  image: false, // the shell executor ignores `image:`; the VM executors declare it (VM_EXECUTOR_FEATURES)
  services: false, // the VM executors declare it (VM_EXECUTOR_FEATURES)
  artifacts: true,
  cache: true,
  fallback_cache_keys: true,
  shared: false, // every job gets a fresh VM
  upload_multiple_artifacts: true,
  upload_raw_artifacts: true,
  session: false,
  terminal: false,
  refspecs: true,
  masking: true,
  proxy: false,
  raw_variables: true,
  artifacts_exclude: true,
  multi_build_steps: true,
  trace_reset: true,
  trace_checksum: true,
  trace_size: true,
  vault_secrets: false,
  cancelable: true,
  return_exit_code: true,
  service_variables: false,
  service_multiple_aliases: false,
  image_executor_opts: false,
  service_executor_opts: false,
  cancel_gracefully: true,
  native_steps_integration: false,
  two_phase_job_commit: true,
  job_inputs: false,
});

export type FeatureName = keyof typeof TART_FEATURES;

/**
 * What the VM executors add beyond TART_FEATURES: the job runs in its `image:` (#10), and
 * services run beside it in its VM (#11), with their own variables and several aliases each, and
 * `image:docker:` / `services:docker:` (user, platform), as docker declares them.
 */
const VM_EXECUTOR_FEATURES: Partial<Record<FeatureName, boolean>> = Object.freeze({
  image: true,
  services: true,
  service_variables: true,
  service_multiple_aliases: true,
  image_executor_opts: true,
  service_executor_opts: true,
});
const VM_EXECUTORS = ['qemu', 'firecracker'];

/** The features the network client itself provides: all gitlab-runner sends at registration (§1.1). */
const NETWORK_FEATURES: readonly FeatureName[] = [
  'trace_reset',
  'trace_checksum',
  'trace_size',
  'cancelable',
  'cancel_gracefully',
  'two_phase_job_commit',
];

export interface RunnerInfo {
  name: string;
  version: string;
  revision: string;
  platform: string;
  architecture: string;
  executor: string;
  shell: string;
  features: Record<string, boolean>;
  config: { gpus: string };
  labels?: Record<string, string>;
}

export interface RunnerInfoOptions {
  tartVersion: string;
  /** `shell` or `vm`-style executor name shown in GitLab's runner list. */
  executor: string;
  shell?: string;
  labels?: Record<string, string>;
}

/** The `info` object for /jobs/request, /runners/verify and PUT /jobs/:id. */
export function buildRunnerInfo(options: RunnerInfoOptions): RunnerInfo {
  return {
    name: 'tart',
    version: GITLAB_RUNNER_COMPAT_VERSION,
    revision: `tart-${options.tartVersion}`,
    platform: process.platform,
    architecture: goArchitecture(process.arch),
    executor: options.executor,
    shell: options.shell ?? 'bash',
    features: { ...TART_FEATURES, ...(VM_EXECUTORS.includes(options.executor) ? VM_EXECUTOR_FEATURES : {}) },
    config: { gpus: '' },
    ...(options.labels && Object.keys(options.labels).length > 0 ? { labels: { ...options.labels } } : {}),
  };
}

/** The `info` object sent at registration: empty executor/shell, only the network features true. */
export function buildRegistrationInfo(tartVersion: string): RunnerInfo {
  const features = Object.fromEntries(
    Object.keys(TART_FEATURES).map((name) => [name, NETWORK_FEATURES.includes(name as FeatureName)]),
  );
  return { ...buildRunnerInfo({ tartVersion, executor: '', shell: '' }), features };
}

/** `gitlab-runner 17.11.0 (tart 0.1.0; node v20.20.2; linux/amd64)`. */
export function runnerUserAgent(tartVersion = 'unknown'): string {
  return `gitlab-runner ${GITLAB_RUNNER_COMPAT_VERSION} (tart ${tartVersion}; node ${process.version}; ${process.platform}/${goArchitecture(process.arch)})`;
}

// GitLab shows Go's GOARCH names.
function goArchitecture(arch: string): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
    ppc64: 'ppc64le',
    riscv64: 'riscv64',
  };
  return names[arch] ?? arch;
}
