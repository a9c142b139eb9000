// FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR=true: the helper stages no longer run under umask 0000,
// so the checkout they made is root's. Before the job's first user stage, the project dir and its
// .tmp sibling are handed to the image's user, as gitlab-runner's docker executor does when it
// creates the build container (`chown -RP -- uid:gid dir`, one trace line per dir; a failure is
// not the job's: the stage then meets the permissions as they are).
import type { JobRun } from './job-run.js';
import { getVariable } from './variables.js';

const handedOver = new WeakSet<JobRun>();

/** Whether the helper stages of this job run without gitlab-runner's umask 0000. */
export function umaskDisabled(run: JobRun): boolean {
  // Every resolved flag is among the job's variables (feature-flags.ts).
  return getVariable(run.script.variables, 'FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR') === 'true';
}

/** Once per job, before its first user stage; does nothing unless the flag is on and the image's user is not root. */
export async function handBuildDirToUser(run: JobRun, signal: AbortSignal): Promise<void> {
  const user = run.env.buildUser;
  if (handedOver.has(run) || user === undefined || user.uid === 0 || !umaskDisabled(run)) return;
  handedOver.add(run);
  for (const dir of [run.script.projectDir, run.script.tmpDir]) {
    run.trace.plain(`Changing ownership of files at "${dir}" to ${user.uid}:${user.gid}`);
    await run.env.exec({ command: ['chown', '-RP', '--', `${user.uid}:${user.gid}`, dir], signal }).catch(() => undefined);
  }
}
