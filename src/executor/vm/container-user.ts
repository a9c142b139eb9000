// Which user a job's containers run as (docker executor reference §4.4, gitlab-runner's
// getBuildContainerUser and IsUserAllowed): for the job's image, [runners.vm] `user` wins, then
// `image:docker:user` (variables expanded), then the image's USER; a user so chosen must be in
// `allowed_users` (unset: only the configured `user`; neither set: anyone). A service runs as its
// own `services:docker:user`, then its image's USER; the runner's `user` never applies to it.
import { TartError } from '../../errors.js';
import type { DockerExecutorOptions, JobVariable } from '../../model/payload.js';
import { expandVariables } from '../../model/variables.js';

export interface UserPolicy {
  /** [runners.vm] (or [runners.docker]) `user`. */
  user?: string;
  /** `allowed_users`. */
  allowedUsers: readonly string[];
}

/** The job image's user: undefined leaves the image's own USER. */
export function jobContainerUser(options: { policy: UserPolicy; requested: DockerExecutorOptions | undefined; variables: JobVariable[] }): string | undefined {
  const { policy } = options;
  const requested = options.requested?.user === undefined ? '' : expandVariables(options.requested.user, options.variables);
  const user = policy.user || requested;
  if (user === '') return undefined;
  if (!isUserAllowed(user, policy)) {
    throw new TartError('USER_NOT_ALLOWED', `user "${user}" is not an allowed user: [${policy.allowedUsers.join(' ')}]`);
  }
  return user;
}

/** A service's user: its `services:docker:user` when given, else undefined (its image's USER). */
export function serviceContainerUser(requested: DockerExecutorOptions | undefined, variables: JobVariable[]): string | undefined {
  const user = requested?.user === undefined ? '' : expandVariables(requested.user, variables);
  return user === '' ? undefined : user;
}

function isUserAllowed(user: string, policy: UserPolicy): boolean {
  if (policy.allowedUsers.length > 0) return policy.allowedUsers.includes(user);
  return !policy.user || policy.user === user;
}
