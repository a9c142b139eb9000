// Whether a process still exists, for locks, leases and VM handles that name their owner's pid.

/** True while a process with this pid exists (one we may not signal, EPERM, exists too). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
