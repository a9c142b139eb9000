// Which pull policies a job's image gets (gitlab-runner helpers/pull_policies; docker executor
// reference §2.1–2.2): the job's `image:pull_policy`, else the runner's `pull_policy`, else
// [always]; filtered by `allowed_pull_policies` (default: the runner's pull_policy, else [always]).
import { ImagePullError } from './pull-errors.js';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export function isPullPolicy(value: string): value is PullPolicy {
  return (PULL_POLICIES as readonly string[]).includes(value);
}

export interface PullPolicyConfig {
  /** [runners.vm] pull_policy (a string in the TOML becomes a one-entry list). */
  pullPolicy?: readonly PullPolicy[];
  /** [runners.vm] allowed_pull_policies. */
  allowedPullPolicies?: readonly PullPolicy[];
}

/** The policies to try, in order (duplicates kept: listing one twice is gitlab-runner's retry). */
export function effectivePullPolicies(image: string, jobPolicies: readonly string[] | undefined, config: PullPolicyConfig): PullPolicy[] {
  for (const policy of jobPolicies ?? []) {
    if (!isPullPolicy(policy)) {
      throw new ImagePullError('IMAGE_PULL_POLICY_INVALID', `unsupported pull_policy "${policy}" for image "${image}"`, 'runner_configuration_error');
    }
  }
  const fromJob = jobPolicies !== undefined && jobPolicies.length > 0;
  const configured = config.pullPolicy !== undefined && config.pullPolicy.length > 0;
  const requested = (fromJob ? jobPolicies : configured ? config.pullPolicy : ['always']) as PullPolicy[];
  const source = fromJob ? 'GitLab pipeline config' : configured ? 'Runner config' : 'Runner config (default)';
  const allowed = config.allowedPullPolicies?.length ? config.allowedPullPolicies : configured ? config.pullPolicy! : ['always'];
  const effective = requested.filter((policy) => allowed.includes(policy));
  if (effective.length === 0) {
    throw new ImagePullError(
      'IMAGE_PULL_POLICY_NOT_ALLOWED',
      `invalid pull policy for image "${image}": pull_policy ([${requested.join(' ')}]) defined in ${source} is not one of the allowed_pull_policies ([${allowed.join(' ')}])`,
      'runner_configuration_error',
    );
  }
  return effective;
}
