// The contract between the daemon (or `tart exec`) and the job engine.
import type { Writable } from 'node:stream';
import type { ArtifactTransport } from '../artifacts/transport.js';
import type { Executor } from '../executor/types.js';
import type { FailureReason, JobPayload } from '../model/payload.js';
import type { RunnerSettings } from '../model/runner-settings.js';

export type { CancelReason } from '../model/cancel-reason.js';
export type { RunnerSettings } from '../model/runner-settings.js';

export interface RunJobOptions {
  job: JobPayload;
  executor: Executor;
  runner: RunnerSettings;
  /** Raw trace sink. The engine masks everything before it writes here. */
  trace: Writable;
  artifacts: ArtifactTransport;
  /** Aborted with a CancelReason as its reason. The job timeout is handled inside the engine. */
  cancel: AbortSignal;
  /**
   * Aborted (with a CancelReason) when a graceful cancel must become a hard one: GitLab moved the
   * job from `canceling` to `canceled`, or the daemon shuts down during after_script.
   */
  hardCancel?: AbortSignal;
  /**
   * false: never add FF_TIMESTAMPS's per-line prefixes (a local console: they are a wire format
   * that GitLab's job page hides). Otherwise they follow the job's FF_TIMESTAMPS.
   */
  traceTimestamps?: boolean;
}

export interface JobOutcome {
  state: 'success' | 'failed';
  failureReason?: FailureReason;
  /** The script's exit code when a script failed (reported as exit_code). */
  exitCode?: number;
  /** One line for logs: why the job ended as it did. */
  message: string;
}
