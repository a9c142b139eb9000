// The object tests drive: seed runners, projects and jobs; script faults; inspect what happened.
import type { Server } from 'node:http';
import { FaultQueue, type FaultSpec } from './faults.js';
import type { GitHttpBackend } from './git-http.js';
import { buildFinishedJob, buildJob, buildRawJob, type EnqueueJobOptions, type QueuedJob } from './jobs.js';
import type { ResolvedOptions } from './routes/context.js';
import { addRunnerRecord } from './routes/runners.js';
import { listenFakeServer } from './server.js';
import {
  FakeGitLabState,
  FINISHED_STATES,
  type FakeJob,
  type ProjectRecord,
  type RequestLogEntry,
  type RunnerRecord,
} from './state.js';

export type { EnqueueJobOptions, QueuedJob };

export interface FakeGitLabOptions {
  /** Hold /jobs/request while last_update is current, up to this many ms (default 0: no long polling). */
  longPollMs?: number;
  /** X-GitLab-Trace-Update-Interval in seconds on trace patches (default 3). */
  traceUpdateInterval?: number;
  /** Artifact uploads larger than this get 413 (default 100 MiB). */
  maxArtifactSize?: number;
  /** Answer artifact downloads that ask for direct_download with a 302 (default false). */
  artifactsDownloadRedirect?: boolean;
  /** The address to listen on (default `127.0.0.1`); e.g. a TAP or namespace address for VM tests. */
  listenHost?: string;
  /** The first job id handed out (default 1000). */
  firstJobId?: number;
  /** Serve HTTPS (API and git) with this key and certificate (PEM); `url` then starts with https://. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export class FakeGitLab {
  private nextPipelineId = 9876;

  private constructor(
    private readonly server: Server,
    private readonly git: GitHttpBackend,
    private readonly state: FakeGitLabState,
    private readonly faults: FaultQueue,
    readonly port: number,
    private readonly host: string,
    private readonly scheme: 'http' | 'https' = 'http',
  ) {}

  /** Internal: use startFakeGitLab(). */
  static async start(options: FakeGitLabOptions = {}): Promise<FakeGitLab> {
    const state = new FakeGitLabState(options.firstJobId ?? 1000);
    const resolved: ResolvedOptions = {
      longPollMs: options.longPollMs ?? 0,
      traceUpdateInterval: options.traceUpdateInterval ?? 3,
      maxArtifactSize: options.maxArtifactSize ?? 100 * 1024 * 1024,
      artifactsDownloadRedirect: options.artifactsDownloadRedirect ?? false,
    };
    const faults = new FaultQueue();
    const listenHost = options.listenHost ?? '127.0.0.1';
    const { server, git, port } = await listenFakeServer({
      listenHost,
      state,
      faults,
      options: resolved,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    const scheme = options.tls ? 'https' : 'http';
    return new FakeGitLab(server, git, state, faults, port, urlHost(listenHost), scheme);
  }

  /** The API base the runner is configured with, e.g. `http://127.0.0.1:41234/`; also the
   *  external_url job payloads carry, as a real GitLab's are its own. */
  get url(): string {
    return `${this.scheme}://${this.host}:${this.port}/`;
  }


  // --- runners -------------------------------------------------------------------------

  /** Accept this registration token on POST /runners (legacy registration, §1.1). */
  addRegistrationToken(token: string): void {
    this.state.registrationTokens.add(token);
  }

  /** A runner created in GitLab's UI/API, e.g. with a `glrt-` token (§1.2). */
  addRunner(runner: { token: string; tokenExpiresAt?: string | null }): { id: number; token: string } {
    const record = addRunnerRecord({ state: this.state }, runner.token, runner.tokenExpiresAt ?? null);
    return { id: record.id, token: record.token };
  }

  runner(token: string): Readonly<RunnerRecord> | undefined {
    return this.state.runners.get(token);
  }

  /** All runners currently known (tokens included: test-only data). */
  runners(): Readonly<RunnerRecord>[] {
    return [...this.state.runners.values()];
  }

  // --- projects and jobs ---------------------------------------------------------------

  /** Serve a bare repository at `/<path>.git` (path like `acme/widget`). */
  addProject(project: { path: string; repo: string | { bareDir: string } }): Readonly<ProjectRecord> {
    const bareDir = typeof project.repo === 'string' ? project.repo : project.repo.bareDir;
    const record: ProjectRecord = { path: project.path, id: this.state.allocateProjectId(), bareDir };
    this.state.projects.set(project.path, record);
    return record;
  }

  /** Queue a job built like GitLab's (job-basic.json) and tick the queue value. */
  enqueueJob(options: EnqueueJobOptions = {}): QueuedJob {
    const pipelineId = options.pipelineId ?? this.nextPipelineId++;
    const job = buildJob(this.state, { options, pipelineId, baseUrl: this.url });
    this.queue(job);
    return job;
  }

  /** Queue a payload exactly as given (malformed ones included); its id/token are used if present. */
  enqueueRaw(body: string | object): FakeJob {
    return this.queue(buildRawJob(this.state, body));
  }

  /** A job that already succeeded with an archive artifact, for `dependencies` of later jobs. */
  addFinishedJob(finished: { name?: string; archive?: Buffer; filename?: string } = {}): FakeJob {
    const job = buildFinishedJob(this.state, finished);
    this.state.jobs.set(job.id, job);
    return job;
  }

  /** Cancel from the UI: `canceling` when graceful and the runner declared cancel_gracefully, else `canceled` (§5.6). */
  cancelJob(id: number, options: { graceful?: boolean } = {}): void {
    const job = this.job(id);
    // A canceling job can still be force-canceled (graceful: false), as GitLab's "Force cancel" does.
    if (FINISHED_STATES.includes(job.state) || (job.state === 'canceling' && options.graceful !== false)) return;
    const queuedAt = this.state.queue.indexOf(job);
    if (queuedAt !== -1) this.state.queue.splice(queuedAt, 1);
    const graceful = (options.graceful ?? true) && job.assignedTo?.features.cancel_gracefully === true;
    job.state = graceful && job.state === 'running' ? 'canceling' : 'canceled';
    this.state.jobChanged(job);
  }

  /** Put an assigned but never acknowledged job back in the queue, as GitLab does after 2 minutes (§2.6). */
  requeueJob(id: number): void {
    const job = this.job(id);
    if (job.state !== 'pending' || job.assignedTo === undefined)
      throw new Error(`job ${id} is not awaiting acknowledgement`);
    job.assignedTo = undefined;
    this.queue(job);
  }

  // --- faults and inspection -----------------------------------------------------------

  injectFault(spec: FaultSpec): void {
    this.faults.inject(spec);
  }

  /** Faults not yet consumed. */
  pendingFaults(): number {
    return this.faults.pending();
  }

  /** The live record of a job; throws for an unknown id. */
  job(id: number): FakeJob {
    const job = this.state.jobs.get(id);
    if (job === undefined) throw new Error(`fake GitLab has no job ${id}`);
    return job;
  }

  /** Every request seen, in order of completion, with credentials redacted. */
  get requests(): readonly RequestLogEntry[] {
    return this.state.requests;
  }

  /** Protocol mistakes GitLab would tolerate but a correct runner never makes. */
  get violations(): readonly string[] {
    return this.state.violations;
  }

  /** Resolves with the job once `predicate` holds; rejects after `timeoutMs`. */
  waitForJob(id: number, predicate: (job: FakeJob) => boolean, timeoutMs = 5000): Promise<FakeJob> {
    const job = this.job(id);
    if (predicate(job)) return Promise.resolve(job);
    return new Promise((resolve, reject) => {
      const onChange = (changed: FakeJob): void => {
        if (changed.id !== id || !predicate(changed)) return;
        cleanup();
        resolve(changed);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `job ${id} did not reach the expected condition within ${timeoutMs} ms (state ${job.state})`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.state.events.off('job', onChange);
      };
      this.state.events.on('job', onChange);
    });
  }

  /** Releases long polls, kills git backends, closes every connection. */
  async close(): Promise<void> {
    this.state.events.emit('closing');
    this.git.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private queue(job: FakeJob): FakeJob {
    this.state.jobs.set(job.id, job);
    job.state = 'pending';
    this.state.queue.push(job);
    this.state.tickQueue();
    this.state.jobChanged(job);
    return job;
  }
}

/** The host part of URLs for a listen address: wildcards are reached through loopback. */
function urlHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '::') return '127.0.0.1';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

/** Starts a fake GitLab on 127.0.0.1 (or `listenHost`) at a free port. */
export function startFakeGitLab(options?: FakeGitLabOptions): Promise<FakeGitLab> {
  return FakeGitLab.start(options);
}
