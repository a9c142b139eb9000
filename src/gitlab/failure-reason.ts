// Mapping Tart's failure reasons onto the ones this GitLab accepts (protocol reference §5.4,
// gitlab-runner common/failure_reason_mapper.go).

/** Accepted by every GitLab, whatever `features.failure_reasons` says. */
export const ALWAYS_SUPPORTED_REASONS: readonly string[] = [
  'script_failure',
  'runner_system_failure',
  'job_execution_timeout',
];

// Older equivalents to fall back to, followed until a supported reason is found.
const COMPATIBLE_REASON: Readonly<Record<string, string>> = {
  image_pull_failure: 'runner_system_failure',
  runner_configuration_error: 'script_failure',
  runner_external_dependency_failure: 'runner_system_failure',
  // Tart-internal reasons (src/job/failure.ts): gitlab-runner downloads and uploads in a stage
  // script, so a failed transfer is a script failure.
  artifact_download_failure: 'script_failure',
  artifact_upload_failure: 'script_failure',
};

/**
 * The reason to send: empty → `script_failure`; supported → as is; else its compatible
 * older reason; else `unknown_failure`. `supported` is the job's `features.failure_reasons`.
 */
export function mapFailureReason(
  reason: string | undefined,
  supported: readonly string[] | undefined,
): string {
  if (!reason) return 'script_failure';
  const accepted = new Set([...ALWAYS_SUPPORTED_REASONS, ...(supported ?? [])]);
  const seen = new Set<string>();
  for (
    let candidate: string | undefined = reason;
    candidate && !seen.has(candidate);
    candidate = COMPATIBLE_REASON[candidate]
  ) {
    if (accepted.has(candidate)) return candidate;
    seen.add(candidate);
  }
  return 'unknown_failure';
}
