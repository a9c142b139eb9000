// Everything the fake GitLab remembers: runners, jobs, the job queue, projects, and what it saw.
// Routes mutate it; tests read it through the FakeGitLab facade.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { traceAsShown } from '../trace-view.js';

/** Server-side job statuses the fake uses (protocol §5.3). */
export type JobStatus = 'pending' | 'running' | 'canceling' | 'canceled' | 'success' | 'failed';

export interface RunnerManager {
  systemId: string;
  features: Record<string, unknown>;
  contactedAt: Date;
}

export interface RunnerRecord {
  id: number;
  token: string;
  /** `legacy` tokens come from POST /runners; `created` ones are `glrt-` tokens made in the UI/API. */
  kind: 'legacy' | 'created';
  tokenExpiresAt: string | null;
  tokenIssuedAt: Date;
  managers: Map<string, RunnerManager>;
}

export interface JobUpdateRecord {
  state: string;
  failureReason?: string;
  exitCode?: number;
  checksum?: string;
  bytesize?: number;
  /** The status the fake answered with. */
  status: number;
}

export interface StoredArtifact {
  type: string;
  format: string;
  filename: string;
  expireIn?: string;
  bytes: Buffer;
}

export interface JobAssignment {
  runnerToken: string;
  systemId: string;
  features: Record<string, unknown>;
}

export interface FakeJob {
  readonly id: number;
  /** The job token ('' for a raw payload without one). */
  readonly token: string;
  /** The exact bytes handed out by POST /jobs/request (undefined for seeded dependency jobs). */
  readonly body: string | undefined;
  /** The parsed payload when `body` is valid JSON. */
  readonly payload: Record<string, unknown> | undefined;
  readonly projectPath: string | undefined;
  /** Runner features the job needs; runners lacking one get it dropped as runner_unsupported (§2.1.2). */
  readonly requiredFeatures: readonly string[];
  state: JobStatus;
  assignedTo: JobAssignment | undefined;
  /** Exactly the log bytes received (PATCH ranges, checksum and bytesize are checked against these). */
  rawTrace: Buffer;
  /** The log as GitLab's job page shows it: FF_TIMESTAMPS headers hidden (a view of rawTrace). */
  readonly trace: Buffer;
  tracePatches: number;
  /** The reason GitLab stored (unknown strings become unknown_failure, §5.2). */
  failureReason: string | undefined;
  /** The reason string exactly as the runner sent it. */
  failureReasonSent: string | undefined;
  exitCode: number | undefined;
  checksumOk: boolean | undefined;
  bytesizeOk: boolean | undefined;
  artifacts: Map<string, StoredArtifact>;
  updates: JobUpdateRecord[];
}

export interface ProjectRecord {
  path: string;
  id: number;
  bareDir: string;
}

export interface RequestLogEntry {
  endpoint: string;
  method: string;
  /** Path and query with credentials redacted. */
  path: string;
  status: number | 'dropped';
  gitProtocol?: string;
}

export const ACTIVE_STATES: readonly JobStatus[] = ['running', 'canceling'];
export const FINISHED_STATES: readonly JobStatus[] = ['success', 'failed', 'canceled'];

export class FakeGitLabState {
  readonly registrationTokens = new Set<string>();
  readonly runners = new Map<string, RunnerRecord>();
  readonly jobs = new Map<number, FakeJob>();
  readonly projects = new Map<string, ProjectRecord>();
  /** Jobs waiting for a runner, oldest first. */
  readonly queue: FakeJob[] = [];
  readonly requests: RequestLogEntry[] = [];
  /** Things GitLab tolerates but a correct runner never does; tests assert this stays empty. */
  readonly violations: string[] = [];
  /** Fires 'queue' when the queue value ticks and 'job' when any job changes. */
  readonly events = new EventEmitter();
  /** Pre-signed-like download links handed out by artifact redirects: secret → bytes. */
  readonly objectStore = new Map<string, Buffer>();
  /** The opaque queue version echoed as X-GitLab-Last-Update (§2.3). */
  lastUpdate = randomHex(16);
  private nextRunnerId = 100;
  private nextProjectId = 42;

  constructor(private nextJobId: number) {
    this.events.setMaxListeners(0);
  }

  allocateJobId(): number {
    return this.nextJobId++;
  }

  allocateRunnerId(): number {
    return this.nextRunnerId++;
  }

  allocateProjectId(): number {
    return this.nextProjectId++;
  }

  /** A new queue value; long polls waiting on the old one are released (§2.3). */
  tickQueue(): void {
    this.lastUpdate = randomHex(16);
    this.events.emit('queue');
  }

  jobChanged(job: FakeJob): void {
    this.events.emit('job', job);
  }

  violation(message: string): void {
    this.violations.push(message);
  }

  /** The runner with this token, unless it is unknown or its token has expired (§1.6: 403 everywhere). */
  liveRunner(token: string): RunnerRecord | undefined {
    const runner = this.runners.get(token);
    if (runner === undefined) return undefined;
    const expired = runner.tokenExpiresAt !== null && Date.parse(runner.tokenExpiresAt) <= Date.now();
    return expired ? undefined : runner;
  }

  /** The job whose token matches, or undefined; the token is compared, never logged. */
  jobByToken(token: string): FakeJob | undefined {
    for (const job of this.jobs.values()) if (job.token !== '' && job.token === token) return job;
    return undefined;
  }
}

export function newJobRecord(init: {
  id: number;
  token: string;
  body: string | undefined;
  payload: Record<string, unknown> | undefined;
  projectPath: string | undefined;
  requiredFeatures: string[];
  state: JobStatus;
}): FakeJob {
  return {
    ...init,
    assignedTo: undefined,
    rawTrace: Buffer.alloc(0),
    get trace() {
      return Buffer.from(traceAsShown(this.rawTrace));
    },
    tracePatches: 0,
    failureReason: undefined,
    failureReasonSent: undefined,
    exitCode: undefined,
    checksumOk: undefined,
    bytesizeOk: undefined,
    artifacts: new Map(),
    updates: [],
  };
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random characters from [A-Za-z0-9], the alphabet GitLab's tokens use after their prefix. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length];
  return out;
}
