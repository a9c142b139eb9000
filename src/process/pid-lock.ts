// A lock file shared by processes on one host: created with O_EXCL, holding the owner's pid. A
// lock whose owner has exited (or that was left empty by an owner killed while writing it) is
// taken over. Taking over is race-free: only the holder of the lock's `.takeover` marker may
// remove a stale lock, and only after reading it again, so two processes that found the same
// stale lock never both end up holding it, and a slow one never removes a newer, live lock.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRuns } from './liveness.js';

/** An empty lock older than this was left by an owner killed between creating and writing it. */
const EMPTY_LOCK_STALE_MS = 5000;
const ATTEMPTS = 5;

/** Takes the lock for this process: undefined when taken, else the live owner's pid (0: being written). */
export async function takePidLock(path: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createLock(path)) return undefined;
    const owner = await readOwner(path);
    if (owner === undefined) continue; // released meanwhile
    if (owner.live) return owner.pid;
    if (!(await removeStaleLock(path, owner.text))) await sleep(10);
  }
  const owner = await readOwner(path);
  return owner?.live ? owner.pid : 0;
}

/** The live owner's pid (0: being written), or undefined when the lock is free or stale. */
export async function pidLockOwner(path: string): Promise<number | undefined> {
  const owner = await readOwner(path);
  return owner?.live ? owner.pid : undefined;
}

export async function releasePidLock(path: string): Promise<void> {
  await rm(path, { force: true });
}

async function createLock(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

interface LockOwner {
  text: string;
  pid: number;
  live: boolean;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  if (text.trim() === '') return { text, pid: 0, live: !(await olderThan(path, EMPTY_LOCK_STALE_MS)) };
  const pid = Number(text.trim());
  return { text, pid, live: Number.isInteger(pid) && pid > 0 && processRuns(pid) };
}

// True when the stale lock is gone (removed here or by another process); false while another
// process holds the takeover marker.
async function removeStaleLock(path: string, staleText: string): Promise<boolean> {
  const marker = `${path}.takeover`;
  if (!(await createLock(marker))) {
    const breaker = await readOwner(marker);
    // A marker whose holder died mid-takeover (a window of microseconds) would block the lock forever.
    if (breaker !== undefined && !breaker.live) await rm(marker, { force: true });
    return false;
  }
  try {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === staleText) await rm(path, { force: true });
  } finally {
    await rm(marker, { force: true });
  }
  return true;
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}
