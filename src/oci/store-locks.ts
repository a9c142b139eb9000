// How Tart processes on one host share an image store (a daemon, `tart exec`, `tart image prune`):
//   locks/pull-<manifest hex>.lock   one pull of an image at a time; the others wait, then use it
//   locks/store.lock                 held while a job takes an entry or an eviction removes some
//   in-use/<manifest hex>/<pid>-<id> one file per job holding the entry, removed when it lets go
// Every lock and marker names its process, so what a killed process left is recognised and ignored.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRuns } from '../process/liveness.js';
import { pidLockOwner, releasePidLock, takePidLock } from '../process/pid-lock.js';
import { hexOf, type StoreLayout } from './store-layout.js';

const POLL_MS = 100;

/** Runs `work` holding the pull lock of one image; waits (abortably) while another process pulls it. */
export async function withPullLock<T>(
  layout: StoreLayout,
  manifestDigest: string,
  options: { signal?: AbortSignal; onWait?: (ownerPid: number) => void },
  work: () => Promise<T>,
): Promise<T> {
  return withLock(join(locksDir(layout), `pull-${hexOf(manifestDigest)}.lock`), options, work);
}

/** Runs `work` holding the store lock (a few file operations long). */
export function withStoreLock<T>(layout: StoreLayout, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  return withLock(join(locksDir(layout), 'store.lock'), { signal }, work);
}

/** True while a live process holds the pull lock of any image: its blobs are named by no entry yet. */
export async function pullsInFlight(layout: StoreLayout): Promise<boolean> {
  const names = await readdir(locksDir(layout)).catch(() => [] as string[]);
  for (const name of names.filter((entry) => /^pull-[0-9a-f]+\.lock$/.test(entry))) {
    if ((await pidLockOwner(join(locksDir(layout), name))) !== undefined) return true;
  }
  return false;
}

/** Marks an entry as held by a job of this process; the returned function lets go of it. */
export async function markInUse(layout: StoreLayout, manifestDigest: string): Promise<() => Promise<void>> {
  const dir = join(inUseDir(layout), hexOf(manifestDigest));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const marker = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(marker, '', { mode: 0o600 });
  return () => rm(marker, { force: true });
}

/** The manifest digests some live process's job holds; markers of dead processes are removed. */
export async function entriesInUse(layout: StoreLayout): Promise<Set<string>> {
  const used = new Set<string>();
  for (const hex of await readdir(inUseDir(layout)).catch(() => [] as string[])) {
    const dir = join(inUseDir(layout), hex);
    for (const marker of await readdir(dir).catch(() => [] as string[])) {
      const pid = Number(marker.slice(0, marker.indexOf('-')));
      if (Number.isInteger(pid) && pid > 0 && processRuns(pid)) used.add(`sha256:${hex}`);
      else await rm(join(dir, marker), { force: true });
    }
  }
  return used;
}

function locksDir(layout: StoreLayout): string {
  return join(layout.root, 'locks');
}

function inUseDir(layout: StoreLayout): string {
  return join(layout.root, 'in-use');
}

async function withLock<T>(
  path: string,
  options: { signal?: AbortSignal; onWait?: (ownerPid: number) => void },
  work: () => Promise<T>,
): Promise<T> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const owner = await takePidLock(path);
    if (owner === undefined) break;
    if (!told && owner !== process.pid) options.onWait?.(owner);
    told = true;
    await sleep(POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
  }
  try {
    return await work();
  } finally {
    await releasePidLock(path);
  }
}
