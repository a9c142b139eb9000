// A VM described as data: everything another process needs to re-attach to it (channel endpoint,
// pinned host key, where the client key is) or to reap it (owner pid, VMM pid, runtime dir). It is
// the VM's state file (runtime-dir.ts), so the reaper reads the same record.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TartError } from '../../errors.js';
import type { TapLeaseRecord } from '../../net/index.js';
import type { SshEndpoint } from '../../vmm/types.js';
import { readState, writeState, type VmState } from './runtime-dir.js';

/** The client private key: a 0600 file in the VM's 0700 runtime dir, removed with it. */
export const CLIENT_KEY_FILE = 'client-key';

export interface VmHandle extends VmState {
  /** The driver: "qemu" or "firecracker". */
  vmm: string;
  vmmPid: number;
  runtimeDir: string;
  /** The VMM's control sockets by role (qmp, api, vsock). */
  sockets: Readonly<Record<string, string>>;
  /** How to reach the guest: SSH at `endpoint`, as `user`, pinning `hostPublicKey`. */
  channel: { kind: 'ssh'; endpoint: SshEndpoint; user: string; hostPublicKey: string };
  /** Where the channel's client credentials are (never the secret itself). */
  credentials: { kind: 'file'; path: string };
  /** The network the VM was given: a `tap` VM's lease, which whoever releases the VM frees. */
  network: { mode: 'user' } | { mode: 'tap'; lease: TapLeaseRecord };
  /** Set for a VM booted ahead by a warm pool: its boot key, and whether a job has taken it. */
  pool?: { key: string; state: 'idle' | 'in-use' };
}

export async function writeHandle(handle: VmHandle): Promise<void> {
  await writeState(handle.runtimeDir, handle);
}

/** The handle in `runtimeDir`, or VM_HANDLE_INVALID when it is missing or not a full handle. */
export async function readHandle(runtimeDir: string): Promise<VmHandle> {
  const state = await readState(runtimeDir);
  if (!isHandle(state))
    throw new TartError('VM_HANDLE_INVALID', `no VM handle in ${join(runtimeDir, 'state.json')}`);
  return state;
}

/** The client private key a handle refers to. */
export async function readCredentials(handle: VmHandle): Promise<string> {
  try {
    return await readFile(handle.credentials.path, 'utf8');
  } catch (cause) {
    throw new TartError('VM_CREDENTIALS_MISSING', `cannot read the VM's client key for ${handle.vmId}`, {
      cause,
    });
  }
}

export async function writeCredentials(runtimeDir: string, privateKey: string): Promise<string> {
  const path = join(runtimeDir, CLIENT_KEY_FILE);
  await writeFile(path, privateKey, { mode: 0o600, flag: 'wx' });
  return path;
}

function isHandle(state: VmState | undefined): state is VmHandle {
  const handle = state as Partial<VmHandle> | undefined;
  return (
    typeof handle?.vmm === 'string' &&
    typeof handle.vmmPid === 'number' &&
    typeof handle.runtimeDir === 'string' &&
    handle.channel?.kind === 'ssh' &&
    handle.credentials?.kind === 'file'
  );
}
