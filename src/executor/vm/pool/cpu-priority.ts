// A pooled VM boots in the background at a lower CPU priority, so running jobs keep the CPU; it
// gets normal priority back when a job takes it. Niceness is per thread on Linux, so every thread
// of the VMM (its vCPUs included) is changed. Only root may raise a priority back, so other users
// leave the priority alone.
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Niceness of a VM booting for the pool. */
export const BACKGROUND_NICENESS = 10;

/** Sets the niceness of every thread of `pid`; does nothing unless running as root. Never throws. */
export function setProcessNiceness(pid: number, niceness: number): void {
  if (process.getuid?.() !== 0) return;
  let threads: string[];
  try {
    // procfs is read synchronously: a promise-based read of /proc was seen never to settle on Node 20.
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // The process is gone.
  }
  for (const thread of threads) {
    try {
      setPriority(Number(thread), niceness);
    } catch {
      // The thread ended meanwhile.
    }
  }
}
