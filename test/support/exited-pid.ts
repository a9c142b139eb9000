// A pid that is gone: a child that has exited and been waited for (for stale-lock tests).
import { spawnSync } from 'node:child_process';

export function exitedPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  if (pid === undefined) throw new Error('could not start a child process');
  return pid;
}
