// How a job ends: the failure kinds the engine distinguishes, the footer line for each, and
// the failure_reason GitLab gets (protocol reference §5.4, job execution reference §1.2, §7).
import type { FailureReason, JobFeatures } from '../model/payload.js';
import { mapFailureReason as mapToAcceptedReason } from '../gitlab/failure-reason.js';
import type { JobOutcome } from './types.js';

export type JobFailure =
  /** A script stage exited non-zero; `message` replaces "exit code N" when set. */
  | { kind: 'script'; exitCode: number; message?: string }
  /**
   * The environment or the runner itself broke (executor, exec, helper crash). `reason` overrides
   * runner_system_failure (image pulls: image_pull_failure, runner_configuration_error, …).
   */
  | { kind: 'system'; message: string; reason?: string }
  /** The job deadline or RUNNER_SCRIPT_TIMEOUT. */
  | { kind: 'timeout'; message: string }
  /** GitLab canceled the job (gracefully or not). */
  | { kind: 'canceled' }
  /** The daemon is shutting down. */
  | { kind: 'interrupted' }
  /** The payload asks for something refused before anything runs (an unsafe or oversized variable). */
  | { kind: 'refused-input'; message: string }
  | { kind: 'artifact-download'; message: string }
  | { kind: 'artifact-upload'; message: string };

/** The text after "Job failed: " (or "Job failed (system failure): "). */
export function failureMessage(failure: JobFailure): string {
  switch (failure.kind) {
    case 'script':
      return failure.message ?? `exit code ${failure.exitCode}`;
    case 'system':
    case 'timeout':
    case 'refused-input':
    case 'artifact-download':
    case 'artifact-upload':
      return failure.message;
    case 'canceled':
      return 'canceled';
    case 'interrupted':
      return 'aborted: runner shutting down';
  }
}

/** The footer's text: "Job failed: …" or "Job failed (system failure): …". */
export function footerText(failure: JobFailure): string {
  const systemFailure = failure.kind === 'system' && (failure.reason ?? 'runner_system_failure') === 'runner_system_failure';
  const label = systemFailure ? 'Job failed (system failure)' : 'Job failed';
  return `${label}: ${failureMessage(failure)}`;
}

/** What the daemon reports to GitLab for this failure. */
export function failureOutcome(failure: JobFailure, features: JobFeatures): JobOutcome {
  const outcome: JobOutcome = {
    state: 'failed',
    failureReason: mapFailureReason(runnerReason(failure), features.failure_reasons ?? []),
    message: footerText(failure),
  };
  if (failure.kind === 'script') outcome.exitCode = failure.exitCode;
  return outcome;
}

/** Maps a runner reason to one the GitLab instance accepts (protocol reference §5.4). */
export function mapFailureReason(reason: string, supported: readonly string[]): FailureReason {
  return mapToAcceptedReason(reason, supported) as FailureReason;
}

function runnerReason(failure: JobFailure): string {
  switch (failure.kind) {
    case 'script':
    case 'refused-input':
      return 'script_failure';
    case 'system':
      return failure.reason ?? 'runner_system_failure';
    case 'timeout':
      return 'job_execution_timeout';
    case 'canceled':
      return 'job_canceled';
    case 'interrupted':
      return 'runner_interrupted';
    case 'artifact-download':
      return 'artifact_download_failure';
    case 'artifact-upload':
      return 'artifact_upload_failure';
  }
}
