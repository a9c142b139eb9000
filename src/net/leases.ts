// Leases of /30 slots, shared by every Tart process on the host: one small file per slot,
// `<stateDir>/leases/<slot>.json`, created with O_EXCL so two processes can never hold the same
// slot. A lease names its holder (pid + process start time), so a restarted daemon or a crashed
// job's slot is recognised as stale and reaped, while a live holder's slot is never reused.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TartError } from '../errors.js';

export interface LeaseHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a live holder from a new process that reused its pid. */
  startTime: string;
}

export interface Lease {
  slot: number;
  vmId: string;
  holder: LeaseHolder;
  createdAt: string;
}

export function leaseDir(stateDir: string): string {
  return join(stateDir, 'leases');
}

/** The calling process as a lease holder. */
export async function currentHolder(): Promise<LeaseHolder> {
  return { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? '' };
}

/**
 * Claims the first free slot, starting at a point derived from vmId so concurrent claimers
 * rarely contend. `isUsable` may refuse a claimed slot (its TAP still exists); the claim is
 * then released and the search goes on.
 */
export async function claimSlot(options: {
  stateDir: string;
  slotCount: number;
  vmId: string;
  holder: LeaseHolder;
  isUsable?: (slot: number) => Promise<boolean>;
}): Promise<Lease> {
  const dir = leaseDir(options.stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const start = startSlot(options.vmId, options.slotCount);
  for (let offset = 0; offset < options.slotCount; offset += 1) {
    const slot = (start + offset) % options.slotCount;
    const lease: Lease = {
      slot,
      vmId: options.vmId,
      holder: options.holder,
      createdAt: new Date().toISOString(),
    };
    if (!(await createLeaseFile(dir, lease))) continue;
    if (options.isUsable === undefined || (await options.isUsable(slot))) return lease;
    await releaseSlot(options.stateDir, slot);
  }
  throw new TartError('NET_NO_FREE_SLOT', `all ${options.slotCount} network slots are leased`, {
    details: { stateDir: options.stateDir },
  });
}

export async function releaseSlot(stateDir: string, slot: number): Promise<void> {
  await unlink(join(leaseDir(stateDir), `${slot}.json`)).catch(ignoreMissing);
}

export async function listLeases(stateDir: string): Promise<Lease[]> {
  const names = await readdir(leaseDir(stateDir)).catch(() => [] as string[]);
  const leases: Lease[] = [];
  for (const name of names.filter((entry) => /^\d+\.json$/.test(entry))) {
    const lease = await readLease(stateDir, Number(name.slice(0, -'.json'.length)));
    if (lease) leases.push(lease);
  }
  return leases.sort((a, b) => a.slot - b.slot);
}

/** The lease of one slot, or undefined when the slot is free (or its lease is being written). */
export async function readLease(stateDir: string, slot: number): Promise<Lease | undefined> {
  const text = await readFile(join(leaseDir(stateDir), `${slot}.json`), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLease(text);
}

/** True when the lease's holder process is gone (or its pid now belongs to another process). */
export async function isStale(lease: Lease): Promise<boolean> {
  const startTime = await processStartTime(lease.holder.pid);
  return startTime === undefined || (lease.holder.startTime !== '' && startTime !== lease.holder.startTime);
}

/**
 * Takes a stale lease away from its slot for reaping: renaming is atomic, so of two reapers only
 * one wins and goes on to delete the TAP. A reaper that read the lease long ago may rename a new,
 * live lease of the same slot: it checks what it took and puts a different lease back.
 * Returns the tombstone path to remove once the TAP is gone.
 */
export async function takeForReaping(stateDir: string, lease: Lease): Promise<string | undefined> {
  const from = join(leaseDir(stateDir), `${lease.slot}.json`);
  const to = join(leaseDir(stateDir), `${lease.slot}.reaping-${randomBytes(4).toString('hex')}`);
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const taken = parseLease(await readFile(to, 'utf8').catch(() => ''));
  if (taken?.createdAt === lease.createdAt && taken.holder.pid === lease.holder.pid) return to;
  await link(to, from).catch(() => undefined);
  await removeFile(to);
  return undefined;
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch(ignoreMissing);
}

// FNV-1a of the VM id: a deterministic, well-spread first slot to try.
function startSlot(vmId: string, slotCount: number): number {
  let hash = 0x811c9dc5;
  for (const char of vmId) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash % slotCount;
}

// Writes the lease with O_EXCL; false when the slot is already held.
async function createLeaseFile(dir: string, lease: Lease): Promise<boolean> {
  let handle;
  try {
    handle = await open(join(dir, `${lease.slot}.json`), 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new TartError('NET_STATE_UNWRITABLE', `cannot write network leases in ${dir}`, { cause: error });
  }
  try {
    await handle.writeFile(`${JSON.stringify(lease)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

function parseLease(text: string): Lease | undefined {
  try {
    const value = JSON.parse(text) as Lease;
    return Number.isInteger(value.slot) && Number.isInteger(value.holder?.pid) ? value : undefined;
  } catch {
    // A lease being written right now reads as empty; it is never stale, so skip it.
    return undefined;
  }
}

async function processStartTime(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses; fields resume after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
