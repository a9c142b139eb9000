// Which concurrency slot a `tart exec` job may use. Slots are shared by every `tart exec` process
// on the host that uses the same builds dir, so a slot is taken with a pid lock file
// (src/process/pid-lock.ts) per project and slot: two runs of one project never share a
// checkout, and a lock left by a killed process is taken over once its pid is gone.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { releasePidLock, takePidLock } from '../process/pid-lock.js';

export interface SlotLease {
  slot: number;
  release(): Promise<void>;
}

export interface SlotLocks {
  /** The lowest slot not in `busy` (this process) and not held by another live process. */
  acquire(busy: ReadonlySet<number>): Promise<SlotLease>;
}

/** Locks live in `dir`, named after the project (its path, slugged) and the slot. */
export function createSlotLocks(dir: string, project: string): SlotLocks {
  const name = project.replace(/[^A-Za-z0-9._-]+/g, '_');
  return {
    async acquire(busy) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (let slot = 0; ; slot++) {
        if (busy.has(slot)) continue;
        const path = join(dir, `${name}.slot-${slot}.lock`);
        if ((await takePidLock(path)) === undefined) return { slot, release: () => releasePidLock(path) };
      }
    },
  };
}

/** Locks held by nothing but this process's memory, for callers that run one pipeline at a time. */
export function processSlotLocks(): SlotLocks {
  return {
    async acquire(busy) {
      let slot = 0;
      while (busy.has(slot)) slot++;
      return { slot, release: async () => {} };
    },
  };
}
