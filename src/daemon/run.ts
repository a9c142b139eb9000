// `tart run`: the multi-runner daemon. Polls every [[runners]] entry on gitlab-runner's
// schedule, runs jobs within `concurrent`/`limit`, serves /metrics, and stops on signals:
// SIGQUIT gracefully (no new jobs, running ones finish), SIGINT/SIGTERM forcefully.
import type { RunnerConfig, TartConfig } from '../config/types.js';
import type { Executor } from '../executor/types.js';
import type { TlsFiles } from '../gitlab/http.js';
import { buildRunnerInfo, type RunnerInfo } from '../gitlab/runner-info.js';
import { requestJob, isUnhealthyRequestError } from '../gitlab/request-job.js';
import { runJob as defaultRunJob } from '../job/run-job.js';
import type { JobOutcome, RunJobOptions, RunnerSettings } from '../job/types.js';
import { sharedVmCgroups } from '../vmm/cgroup/vm-cgroups.js';
import type { Logger } from '../log/logger.js';
import { createExecutorFor, type ExecutorFactory } from '../executor/factory.js';
import { poolSettingsOf, reloadEffectOf } from '../executor/pool-settings.js';
import { defaultRuntimeRoot, reapOrphans } from '../executor/vm/index.js';
import { reapStaleLeases } from '../net/index.js';
import { handleReceivedJob } from './job-runner.js';
import { ConcurrencyIds } from './concurrency-ids.js';
import { createDaemonMetrics, type DaemonMetrics, type RunnerLabels } from './metrics.js';
import { shortRunnerToken } from '../job/variables.js';
import { RunnerState } from './runner-state.js';
import { checkIntervalMs, jobTlsFiles, runnerIdentity, runnerLimits, runnerSettings, tlsFilesOf } from './runner-entry.js';
import { Scheduler, type ScheduledRunner } from './scheduler.js';
import { startStatusServer, type StatusServer } from './status-server.js';

export interface DaemonOptions {
  config: TartConfig;
  systemId: string;
  tartVersion: string;
  /** Build revision for the trace header ("Running with tart VERSION (REVISION)"). */
  tartRevision?: string;
  logger: Logger;
  /** Where `cache_dir` defaults to when a runner has none. */
  defaultCacheDir: string;
  metrics?: DaemonMetrics;
  createExecutor?: ExecutorFactory;
  runJob?: (options: RunJobOptions) => Promise<JobOutcome>;
  /** run-single: stop requesting after this many jobs were received (0 = no bound). */
  maxBuilds?: number;
  /** Where VM runtime dirs live (default: defaultRuntimeRoot()). */
  runtimeRoot?: string;
  /** Called when GitLab assigns a job (run-single's --wait-timeout stops waiting then). */
  onJobReceived?: () => void;
  /** For tests: trace pacing. */
  traceUpdateIntervalMs?: number;
  /** For tests: keep-alive PUT after this much trace silence (default 30 s, gitlab-runner's forceSendInterval). */
  traceForceSendIntervalMs?: number;
}

interface DaemonRunner extends ScheduledRunner {
  config: RunnerConfig;
  executor: Executor;
  info: RunnerInfo;
  settings: RunnerSettings;
  ids: ConcurrencyIds;
  tls?: TlsFiles;
  lastUpdate?: string;
  /** Jobs running on this entry's executor (a retired entry's executor is disposed at 0). */
  activeJobs: number;
}

export class Daemon {
  private readonly shutdownController = new AbortController();
  private readonly metrics: DaemonMetrics;
  private readonly scheduler: Scheduler<DaemonRunner, unknown>;
  private statusServer: StatusServer | undefined;
  private receivedJobs = 0;
  private runningJobs = 0;
  private stopping: 'graceful' | 'forceful' | undefined;
  private disposing: Promise<unknown> | undefined;
  /** The config in effect (replaced by applyConfig). */
  private config: TartConfig;
  private runners: DaemonRunner[];
  /** Runners a reload removed or replaced whose executors wait for their last job before disposal. */
  private readonly retired = new Set<DaemonRunner>();
  private started = false;

  constructor(private readonly options: DaemonOptions) {
    this.metrics = options.metrics ?? createDaemonMetrics();
    this.config = options.config;
    this.runners = options.config.runners
      .filter((runner) => runner.token.trim() !== '')
      .map((runner) => this.makeRunner(runner, options.config.concurrent));
    const runners = this.runners;
    for (const runner of runners)
      this.metrics.watchPool(runner.name, () => runner.executor.poolCounts?.());
    this.metrics.setLimits(options.config.concurrent, this.limitsOf(runners));
    this.scheduler = new Scheduler<DaemonRunner, unknown>({
      runners,
      concurrent: options.config.concurrent,
      checkIntervalMs: checkIntervalMs(options.config),
      requestJob: (runner, signal) => this.requestOne(runner, signal),
      runJob: (runner, raw) => this.runOne(runner, raw),
    });
  }

  /** Starts polling (and the status server when listen_address is set). */
  async start(): Promise<void> {
    await this.reapOrphanedVms();
    // Warm pools boot only once what a killed daemon left is gone.
    for (const runner of this.runners) runner.executor.start?.();
    this.started = true;
    const listenAddress = this.config.listenAddress;
    if (listenAddress) {
      this.statusServer = await startStatusServer({
        listenAddress,
        metrics: this.metrics,
        health: () => ({ healthy: this.stopping === undefined, detail: { running_jobs: this.runningJobs } }),
      });
      this.options.logger.info('status server listening', { address: this.statusServer.address });
    }
    this.scheduler.start();
    this.options.logger.info('tart is running', {
      runners: this.config.runners.length,
      concurrent: this.config.concurrent,
    });
  }

  // VMs, disks and sockets left behind by a runner that was killed (SIGKILL, power loss).
  private async reapOrphanedVms(): Promise<void> {
    if (!this.config.runners.some((runner) => runner.executor !== 'shell')) return;
    const { reaped, killedPids } = await reapOrphans({
      runtimeRoot: this.options.runtimeRoot ?? defaultRuntimeRoot(),
      cgroups: sharedVmCgroups((message, fields) => this.options.logger.warn(message, fields)),
    });
    if (reaped.length > 0)
      this.options.logger.warn('reaped VMs left by a previous runner', {
        vms: reaped.length,
        killed: killedPids.length,
      });
    if (
      this.config.runners.some((runner) => runner.executor !== 'shell' && runner.vm.network === 'tap')
    ) {
      const freed = await reapStaleLeases({});
      if (freed.length > 0)
        this.options.logger.warn('freed network leases left by a previous runner', { leases: freed.length });
    }
  }

  /** SIGQUIT: stop taking jobs; running jobs finish. */
  stopGracefully(): void {
    if (this.stopping) return;
    this.stopping = 'graceful';
    this.options.logger.info('graceful shutdown: waiting for running jobs to finish', {
      running: this.runningJobs,
    });
    this.scheduler.stopRequesting();
    this.disposeExecutors();
  }

  /** SIGINT/SIGTERM: stop taking jobs and cancel the running ones (reported as failed). */
  stopForcefully(): void {
    this.stopping = 'forceful';
    this.options.logger.warn('forceful shutdown: canceling running jobs', { running: this.runningJobs });
    this.scheduler.stopRequesting();
    this.shutdownController.abort({ kind: 'shutdown' });
    this.disposeExecutors();
  }

  // No job will take a pooled VM any more: destroy them now, not after the running jobs.
  private disposeExecutors(): Promise<unknown> {
    this.disposing ??= Promise.all(
      [...this.runners, ...this.retired].map((runner) => runner.executor.dispose?.()),
    );
    return this.disposing;
  }

  /** Resolves when polling stopped and every job has finished. */
  async whenStopped(): Promise<void> {
    await this.scheduler.whenStopped();
    await this.disposeExecutors();
    await this.statusServer?.close();
  }

  /** Jobs being handled right now (from the 201 to the final update). */
  get runningJobCount(): number {
    return this.runningJobs;
  }

  get address(): string | undefined {
    return this.statusServer?.address;
  }

  // A polled entry for `config`; `previous` (same url and token, from before a reload) hands over
  // its slots and bookkeeping so `limit` and concurrent ids hold across the reload. `concurrent`
  // is the config's being applied: with `limit`, it bounds a warm pool's VMs.
  private makeRunner(config: RunnerConfig, concurrent: number, previous?: DaemonRunner): DaemonRunner {
    const logger = this.options.logger;
    logger.addSecret(config.token);
    const limits = runnerLimits(config);
    previous?.state.setLimits(limits);
    return {
      name: config.name,
      config,
      state: previous?.state ?? new RunnerState(limits),
      executor: (this.options.createExecutor ?? createExecutorFor)(config, {
        runtimeRoot: this.options.runtimeRoot,
        concurrent,
        log: (message, fields) => logger.info(message, { runner: config.name || 'runner', ...fields }),
      }),
      ids: previous?.ids ?? new ConcurrencyIds(),
      tls: tlsFilesOf(config),
      info: buildRunnerInfo({ tartVersion: this.options.tartVersion, executor: config.executor }),
      settings: runnerSettings(config, this.options),
      lastUpdate: previous?.lastUpdate,
      activeJobs: 0,
    };
  }

  /**
   * A reloaded config.toml: added runners start polling within one check interval, removed ones
   * stop polling (their running jobs finish), changed ones take the new settings for their next
   * job; `concurrent` and `check_interval` apply at once. `listen_address` needs a restart. A
   * change of the warm pool's size alone resizes the pool in place: its ready VMs stay.
   */
  applyConfig(config: TartConfig, renamed?: { from: string; to: string }): void {
    // A rotated token names the same runner: it keeps its slots, ids and executor's jobs.
    const identityOf = (runner: RunnerConfig) =>
      runnerIdentity(runner.token === renamed?.from ? { ...runner, token: renamed.to } : runner);
    const current = new Map(this.runners.map((runner) => [identityOf(runner.config), runner]));
    const next = config.runners
      .filter((runner) => runner.token.trim() !== '')
      .map((runnerConfig) => {
        const previous = current.get(runnerIdentity(runnerConfig));
        current.delete(runnerIdentity(runnerConfig));
        if (previous && this.keepsExecutor(previous, runnerConfig, config.concurrent)) return previous;
        if (!previous) this.options.logger.info('runner added', { runner: runnerConfig.name });
        return this.makeRunner(runnerConfig, config.concurrent, previous);
      });
    for (const removed of current.values()) {
      this.options.logger.info('runner removed: no new jobs, running ones finish', { runner: removed.name });
      if (!next.some((runner) => runner.name === removed.name)) this.metrics.unwatchPool(removed.name);
    }
    const kept = new Set(next);
    for (const runner of this.runners) if (!kept.has(runner)) this.retire(runner);
    for (const runner of next.filter((entry) => !this.runners.includes(entry))) {
      this.metrics.watchPool(runner.name, () => runner.executor.poolCounts?.());
      if (this.started) runner.executor.start?.();
    }
    if (config.listenAddress !== this.config.listenAddress)
      this.options.logger.warn('listen_address changed: restart tart to apply it');
    this.config = { ...config, listenAddress: this.config.listenAddress };
    this.runners = next;
    this.scheduler.setRunners(next);
    this.scheduler.setConcurrent(config.concurrent);
    this.scheduler.setCheckInterval(checkIntervalMs(config));
    this.metrics.setLimits(config.concurrent, this.limitsOf(next));
  }

  // True when `runner` keeps its executor for `config`: unchanged, or only its pool's size changed
  // (resized in place, `concurrent` included). Then the entry takes `config` and its new `limit`.
  private keepsExecutor(runner: DaemonRunner, config: RunnerConfig, concurrent: number): boolean {
    const effect = reloadEffectOf(runner.config, config);
    if (effect === 'replace') return false;
    const pool = poolSettingsOf(config, concurrent);
    const resized = runner.executor.resizePool?.(pool) ?? true;
    if (effect === 'unchanged') return true;
    if (!resized) return false;
    // A rotated token is a secret of the logs from now on, as makeRunner makes a new one.
    this.options.logger.addSecret(config.token);
    runner.config = config;
    runner.state.setLimits(runnerLimits(config));
    this.options.logger.info('runner reloaded in place: its executor and ready VMs stay', {
      runner: config.name,
      idle_count: pool.idleCount,
      idle_time: pool.idleTimeSeconds,
      max_vms: pool.maxVms,
    });
    return true;
  }

  // gitlab-runner's metric labels for a runner: short token, name, system ID.
  private labelsOf(runner: DaemonRunner): RunnerLabels {
    return { runner: shortRunnerToken(runner.config.token), runner_name: runner.name, system_id: this.options.systemId };
  }

  private limitsOf(runners: readonly DaemonRunner[]): Array<{ runner: RunnerLabels; limit: number }> {
    return runners.map((runner) => ({ runner: this.labelsOf(runner), limit: runner.config.limit }));
  }

  // An entry a reload removed or replaced: its executor (and warm VMs) go once its last job ended.
  private retire(runner: DaemonRunner): void {
    this.retired.add(runner);
    if (runner.activeJobs === 0) this.disposeRetired(runner);
  }

  private disposeRetired(runner: DaemonRunner): void {
    this.retired.delete(runner);
    void runner.executor.dispose?.().catch((error: unknown) =>
      this.options.logger.warn('disposing a removed runner\'s executor failed', {
        runner: runner.name,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  // One POST /jobs/request for `runner`; returns the raw 201 body when a job was assigned.
  private async requestOne(runner: DaemonRunner, signal: AbortSignal): Promise<unknown> {
    if (this.options.maxBuilds && this.receivedJobs >= this.options.maxBuilds) return undefined;
    if (runner.state.takeRecheck(Date.now()))
      this.options.logger.error('runner is not healthy, but will be checked', { runner: runner.name });
    try {
      const result = await requestJob({
        url: runner.config.url,
        tls: runner.tls,
        tartVersion: this.options.tartVersion,
        onRequest: (event) =>
          this.metrics.apiRequest(this.labelsOf(runner), event.endpoint, event.method, event.status),
        token: runner.config.token,
        systemId: this.options.systemId,
        lastUpdate: runner.lastUpdate,
        info: runner.info,
        signal,
      });
      runner.state.recordHealth(true, Date.now());
      if (result.kind === 'none') {
        if (result.lastUpdate) runner.lastUpdate = result.lastUpdate;
        return undefined;
      }
      this.receivedJobs += 1;
      this.options.onJobReceived?.();
      if (this.options.maxBuilds && this.receivedJobs >= this.options.maxBuilds) this.stopGracefully();
      return result.raw;
    } catch (error) {
      if (signal.aborted) return undefined;
      const unhealthy = isUnhealthyRequestError(error);
      const health = runner.state.recordHealth(!unhealthy, Date.now());
      this.metrics.error(unhealthy ? 'error' : 'warning');
      this.options.logger[unhealthy ? 'error' : 'warn']('checking for jobs failed', {
        runner: runner.name,
        error: error instanceof Error ? error.message : String(error),
      });
      if (health === 'disabled')
        this.options.logger.error('runner is not healthy and will be disabled', {
          runner: runner.name,
          forSeconds: runner.state.unhealthyIntervalMs / 1000,
        });
      return undefined;
    }
  }

  // Runs one received job to its final update, with metrics.
  private async runOne(runner: DaemonRunner, raw: unknown): Promise<void> {
    this.runningJobs += 1;
    runner.activeJobs += 1;
    const labels = this.labelsOf(runner);
    this.metrics.jobStarted(labels);
    const started = Date.now();
    let state: 'success' | 'failed' = 'failed';
    let failureReason: string | undefined;
    const ids = runner.ids.acquire(projectKeyOf(raw));
    try {
      const handled = await handleReceivedJob(raw, {
        url: runner.config.url,
        tls: runner.tls,
        tartVersion: this.options.tartVersion,
        info: runner.info,
        runner: {
          ...runner.settings,
          concurrentId: ids.concurrentId,
          concurrentProjectId: ids.concurrentProjectId,
          tls: await jobTlsFiles(runner.config),
        },
        outputLimitBytes: runner.config.outputLimit * 1024,
        executor: runner.executor,
        logger: this.options.logger.child({ runner: shortName(runner) }),
        shutdown: this.shutdownController.signal,
        runJob: this.options.runJob ?? defaultRunJob,
        onRequest: (event) =>
          this.metrics.apiRequest(this.labelsOf(runner), event.endpoint, event.method, event.status),
        traceUpdateIntervalMs: this.options.traceUpdateIntervalMs,
        traceForceSendIntervalMs: this.options.traceForceSendIntervalMs,
      });
      if (handled.result === 'finished') {
        state = handled.outcome.state;
        failureReason = handled.outcome.failureReason;
      } else if (handled.result === 'rejected') {
        failureReason = 'runner_system_failure';
        this.metrics.error('error');
      }
    } finally {
      ids.release();
      this.runningJobs -= 1;
      runner.activeJobs -= 1;
      if (runner.activeJobs === 0 && this.retired.has(runner)) this.disposeRetired(runner);
      this.metrics.jobFinished(labels, state, (Date.now() - started) / 1000, failureReason);
    }
  }
}

// The project a raw payload belongs to, read defensively (the payload is validated later).
function projectKeyOf(raw: unknown): string {
  const info = (raw as { job_info?: { project_id?: unknown } } | null)?.job_info;
  return String(info?.project_id ?? 'unknown');
}

// Logs name runners by their name or short token, never the token itself.
function shortName(runner: DaemonRunner): string {
  return runner.config.name || 'runner';
}
