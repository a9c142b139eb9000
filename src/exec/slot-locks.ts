// Which concurrency slot a `tart exec` job may use. Slots are shared by every `tart exec` process
// on the host that uses the same builds dir, so a slot is taken with a lock file (created with
// O_EXCL, holding the owner's pid) per project and slot: two runs of one project never share a
// checkout, and a lock left by a killed process is taken over once its pid is gone.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

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
        if (await tryLock(path)) return { slot, release: () => rm(path, { force: true }) };
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

async function tryLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!(await isStale(path))) return false;
      await rm(path, { force: true });
    }
  }
  return false;
}

// A lock whose owner has exited. A lock just created but not yet written is not stale.
async function isStale(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return true;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
