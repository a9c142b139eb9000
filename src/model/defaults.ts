// The defaults more than one folder needs, each written once: gitlab-runner's values unless noted.

/** Job timeout when `runner_info.timeout` is absent or ≤ 0 (§3.4): 2 hours. */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 7200;

/** `check_interval` when unset or ≤ 0: seconds between job requests. */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 3;

/** `shutdown_timeout` when unset or ≤ 0: seconds a stop may take before it turns forceful. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30;

/** `output_limit` when unset or ≤ 0: KiB of job log kept. */
export const DEFAULT_OUTPUT_LIMIT_KIB = 4096;

/** The PATH a job's process gets when its environment (the host's, an image's Env) has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
