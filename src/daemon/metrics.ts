// Prometheus metrics. What gitlab-runner also measures carries its names and labels
// (gitlab_runner_jobs, gitlab_runner_jobs_total, gitlab_runner_failed_jobs_total,
// gitlab_runner_job_duration_seconds, gitlab_runner_api_request_statuses_total,
// gitlab_runner_errors_total, gitlab_runner_concurrent, gitlab_runner_limit), so existing dashboards
// and alerts work; process_* / nodejs_* are the standard process collectors; tart_* is only for
// what is Tart's own (warm-pool VMs). The only importer of prom-client.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** gitlab-runner's per-runner labels: short token, name from config.toml, this host's system ID. */
export interface RunnerLabels {
  runner: string;
  runner_name: string;
  system_id: string;
}

export interface DaemonMetrics {
  readonly registry: Registry;
  jobStarted(runner: RunnerLabels): void;
  jobFinished(
    runner: RunnerLabels,
    state: 'success' | 'failed',
    durationSeconds: number,
    failureReason?: string,
  ): void;
  apiRequest(runner: RunnerLabels, endpoint: string, method: string, status: number | 'error'): void;
  error(level: 'warning' | 'error'): void;
  setLimits(concurrent: number, limits: ReadonlyArray<{ runner: RunnerLabels; limit: number }>): void;
  /** Reports a runner's warm-pool VMs by state (booting, idle, in_use) at every scrape. */
  watchPool(runner: string, read: () => Record<string, number> | undefined): void;
  /** A runner a reload removed: its pool is no longer reported. */
  unwatchPool(runner: string): void;
  render(): Promise<string>;
}

const RUNNER_LABELS = ['runner', 'runner_name', 'system_id'] as const;

// gitlab-runner's endpoint names in gitlab_runner_api_request_statuses_total (network/gitlab.go).
const ENDPOINT_NAMES: Record<string, string> = {
  'POST /jobs/request': 'request_job',
  'PUT /jobs/:id': 'update_job',
  'PATCH /jobs/:id/trace': 'patch_trace',
  'POST /jobs/:id/artifacts': 'upload_artifacts',
  'GET /jobs/:id/artifacts': 'download_artifacts',
  'POST /runners': 'register_runner',
  'POST /runners/verify': 'verify_runner',
  'DELETE /runners': 'unregister_runner',
  'DELETE /runners/managers': 'unregister_runner_manager',
  'POST /runners/reset_authentication_token': 'reset_token',
};

/** A fresh registry with Tart's metrics (one per daemon, so tests can run several). */
export function createDaemonMetrics(options: { defaultMetrics?: boolean } = {}): DaemonMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const jobs = new Gauge({
    name: 'gitlab_runner_jobs',
    help: 'The current number of running builds.',
    labelNames: [...RUNNER_LABELS, 'state', 'executor_stage', 'stage'],
    registers: [registry],
  });
  const jobsTotal = new Counter({
    name: 'gitlab_runner_jobs_total',
    help: 'Total number of handled jobs',
    labelNames: RUNNER_LABELS,
    registers: [registry],
  });
  const failedJobs = new Counter({
    name: 'gitlab_runner_failed_jobs_total',
    help: 'Total number of failed jobs',
    labelNames: [...RUNNER_LABELS, 'failure_reason'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gitlab_runner_job_duration_seconds',
    help: 'Histogram of job durations',
    labelNames: RUNNER_LABELS,
    buckets: [30, 60, 300, 600, 1800, 3600, 7200, 10800, 18000, 36000],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'gitlab_runner_api_request_statuses_total',
    help: 'The total number of api requests, partitioned by runner, system_id, endpoint and status.',
    labelNames: ['runner', 'system_id', 'endpoint', 'status'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'gitlab_runner_errors_total',
    help: 'The number of caught errors.',
    labelNames: ['level'],
    registers: [registry],
  });
  const concurrent = new Gauge({
    name: 'gitlab_runner_concurrent',
    help: 'The current value of concurrent setting',
    registers: [registry],
  });
  const limit = new Gauge({
    name: 'gitlab_runner_limit',
    help: 'The current value of limit setting',
    labelNames: RUNNER_LABELS,
    registers: [registry],
  });
  const pools = new Map<string, () => Record<string, number> | undefined>();
  new Gauge({
    name: 'tart_pool_vms',
    help: 'Warm-pool VMs by runner and state (booting, idle, in_use)',
    labelNames: ['runner', 'state'],
    registers: [registry],
    collect() {
      // Read afresh on every scrape: a runner whose executor lost its pool (a reload) shows none.
      this.reset();
      for (const [runner, read] of pools) {
        for (const [state, count] of Object.entries(read() ?? {})) this.set({ runner, state }, count);
      }
    },
  });
  for (const level of ['warning', 'error']) errors.inc({ level }, 0);
  // gitlab-runner's jobs gauge counts running jobs in state "running" (stage detail is not tracked here).
  const running = (runner: RunnerLabels) => ({ ...runner, state: 'running', executor_stage: '', stage: '' });

  return {
    registry,
    jobStarted: (runner) => jobs.inc(running(runner)),
    jobFinished: (runner, state, seconds, failureReason) => {
      jobs.dec(running(runner));
      jobsTotal.inc({ ...runner });
      if (state === 'failed')
        failedJobs.inc({ ...runner, failure_reason: failureReason ?? 'unknown_failure' });
      duration.observe({ ...runner }, seconds);
    },
    apiRequest: (runner, endpoint, method, status) =>
      requests.inc({
        runner: runner.runner,
        system_id: runner.system_id,
        endpoint: ENDPOINT_NAMES[`${method} ${endpoint}`] ?? endpoint,
        status: String(status),
      }),
    error: (level) => errors.inc({ level }),
    setLimits: (value, limits) => {
      concurrent.set(value);
      limit.reset();
      for (const entry of limits) limit.set({ ...entry.runner }, entry.limit);
    },
    watchPool: (runner, read) => void pools.set(runner, read),
    unwatchPool: (runner) => void pools.delete(runner),
    render: () => registry.metrics(),
  };
}
