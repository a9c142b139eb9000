// Pull failures with stable codes and the failure_reason gitlab-runner gives them
// (common/classify_image_pull_failure.go; docker executor reference §2.6): network trouble is an
// external dependency failure, a missing or denied image a configuration error, the rest
// image_pull_failure.
import { TartError } from '../errors.js';

export type PullFailureReason =
  | 'runner_external_dependency_failure'
  | 'runner_configuration_error'
  | 'image_pull_failure'
  | 'runner_system_failure';

const NETWORK = ['dial tcp', 'connection refused', 'no such host', 'i/o timeout', 'tls handshake', 'client.timeout exceeded', 'request canceled', 'connection reset'];
const NOT_FOUND = ['not found', 'manifest unknown'];
const DENIED = [
  'pull access denied',
  'access to the resource is denied',
  'no basic auth credentials',
  'repository does not exist or may require',
  'unauthorized',
  'authentication required',
];

/** An image pull that failed; `reason` is what GitLab is told. */
export class ImagePullError extends TartError {
  readonly reason: PullFailureReason;

  constructor(code: string, message: string, reason: PullFailureReason, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'ImagePullError';
    this.reason = reason;
  }
}

/** Classifies a registry tool's error text. */
export function classifyPullError(text: string): { code: string; reason: PullFailureReason } {
  const lower = text.toLowerCase();
  if (NETWORK.some((needle) => lower.includes(needle))) return { code: 'IMAGE_REGISTRY_UNREACHABLE', reason: 'runner_external_dependency_failure' };
  if (DENIED.some((needle) => lower.includes(needle))) return { code: 'IMAGE_PULL_DENIED', reason: 'runner_configuration_error' };
  if (NOT_FOUND.some((needle) => lower.includes(needle))) return { code: 'IMAGE_NOT_FOUND', reason: 'runner_configuration_error' };
  return { code: 'IMAGE_PULL_FAILED', reason: 'image_pull_failure' };
}

/** True for failures worth another try within one pull attempt (gitlab-runner: network only). */
export function isRetryablePull(error: unknown): boolean {
  return error instanceof ImagePullError && error.reason === 'runner_external_dependency_failure';
}
