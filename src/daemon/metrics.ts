// Prometheus metrics, named in gitlab-runner's style (gitlab_runner_jobs → tart_jobs, …).
// The only importer of prom-client.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface DaemonMetrics {
  readonly registry: Registry;
  jobStarted(runner: string): void;
  jobFinished(runner: string, state: 'success' | 'failed', durationSeconds: number, failureReason?: string): void;
  apiRequest(endpoint: string, status: number | 'error'): void;
  error(level: 'warning' | 'error'): void;
  setLimits(concurrent: number, limits: Record<string, number>): void;
  /** Reports a runner's warm-pool VMs by state (booting, idle, in_use) at every scrape. */
  watchPool(runner: string, read: () => Record<string, number> | undefined): void;
  render(): Promise<string>;
}

/** A fresh registry with Tart's metrics (one per daemon, so tests can run several). */
export function createDaemonMetrics(options: { defaultMetrics?: boolean } = {}): DaemonMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tart_process_' });
  const jobs = new Gauge({ name: 'tart_jobs', help: 'Jobs running now', labelNames: ['runner'], registers: [registry] });
  const jobsTotal = new Counter({
    name: 'tart_jobs_total',
    help: 'Jobs finished, by state and failure reason',
    labelNames: ['runner', 'state', 'failure_reason'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tart_job_duration_seconds',
    help: 'Duration of finished jobs',
    labelNames: ['runner'],
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'tart_api_request_statuses_total',
    help: 'GitLab API requests by endpoint and status',
    labelNames: ['endpoint', 'status'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'tart_errors_total',
    help: 'Errors and warnings logged by the daemon',
    labelNames: ['level'],
    registers: [registry],
  });
  const concurrent = new Gauge({ name: 'tart_concurrent', help: 'Global concurrent setting', registers: [registry] });
  const limit = new Gauge({ name: 'tart_limit', help: 'Per-runner limit setting', labelNames: ['runner'], registers: [registry] });
  const pools = new Map<string, () => Record<string, number> | undefined>();
  new Gauge({
    name: 'tart_pool_vms',
    help: 'Warm-pool VMs by runner and state (booting, idle, in_use)',
    labelNames: ['runner', 'state'],
    registers: [registry],
    collect() {
      for (const [runner, read] of pools) {
        for (const [state, count] of Object.entries(read() ?? {})) this.set({ runner, state }, count);
      }
    },
  });
  errors.inc({ level: 'warning' }, 0);
  errors.inc({ level: 'error' }, 0);

  return {
    registry,
    jobStarted: (runner) => jobs.inc({ runner }),
    jobFinished: (runner, state, seconds, failureReason) => {
      jobs.dec({ runner });
      jobsTotal.inc({ runner, state, failure_reason: failureReason ?? '' });
      duration.observe({ runner }, seconds);
    },
    apiRequest: (endpoint, status) => requests.inc({ endpoint, status: String(status) }),
    error: (level) => errors.inc({ level }),
    setLimits: (value, limits) => {
      concurrent.set(value);
      for (const [runner, n] of Object.entries(limits)) limit.set({ runner }, n);
    },
    watchPool: (runner, read) => void pools.set(runner, read),
    render: () => registry.metrics(),
  };
}
