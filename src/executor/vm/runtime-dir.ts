// Per-VM runtime directories under one root, each with a state file naming the runner process
// that owns it, so a restarted runner can reap what a killed one left behind.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE = 'state.json';

export interface VmState {
  vmId: string;
  runnerPid: number;
  vmmPid?: number;
  createdAt: string;
}

/** `/run/tart/vms` as root, else `$XDG_RUNTIME_DIR/tart/vms`, else `/tmp/tart-<uid>/vms`. */
export function defaultRuntimeRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.TART_RUNTIME_DIR) return env.TART_RUNTIME_DIR;
  if (uid === 0) return '/run/tart/vms';
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'tart', 'vms') : `/tmp/tart-${uid}/vms`;
}

/**
 * Creates `<root>/<vmId>` (0700) and records this process as its owner. The root is search-only
 * (0711) for everyone: a QEMU that runs unprivileged must reach its own VM's dir (qemu-owner.ts).
 */
export async function createRuntimeDir(root: string, vmId: string): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  const dir = join(root, vmId);
  await mkdir(dir, { mode: 0o700 });
  await writeState(dir, { vmId, runnerPid: process.pid, createdAt: new Date().toISOString() });
  return dir;
}

export async function writeState(dir: string, state: VmState): Promise<void> {
  await writeFile(join(dir, STATE_FILE), JSON.stringify(state), { mode: 0o600 });
}

export async function readState(dir: string): Promise<VmState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as VmState;
  } catch {
    return undefined;
  }
}

export async function listRuntimeDirs(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => join(root, entry.name));
  } catch {
    return [];
  }
}

export async function removeRuntimeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
