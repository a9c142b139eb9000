// The runner manager's system_id, exactly as gitlab-runner makes it: `s_` + 12 hex chars of
// HMAC-SHA256(key = machine id, message = "gitlab-runner"), or `r_` + 12 random alphanumerics when
// there is no machine id; kept in `.runner_system_id` next to config.toml.
import { createHmac, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './save.js';

export const SYSTEM_ID_FILE = '.runner_system_id';
const VALID_SYSTEM_ID = /^[sr]_[0-9a-zA-Z]{12}$/;
const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface SystemIdOptions {
  /** Files tried in order for the OS machine id. */
  machineIdPaths?: string[];
  /** Told when the new id cannot be saved (the id is still used, as gitlab-runner does). */
  onWarning?: (message: string, error: unknown) => void;
}

/** Reads the persisted system_id next to `configPath`, or generates and persists a new one. */
export async function loadOrCreateSystemId(
  configPath: string,
  options: SystemIdOptions = {},
): Promise<string> {
  const file = join(dirname(configPath), SYSTEM_ID_FILE);
  const stored = await readValidSystemId(file);
  if (stored !== undefined) return stored;
  const created = await generateSystemId(options.machineIdPaths ?? MACHINE_ID_PATHS);
  try {
    await writeFileAtomic(file, created); // no trailing newline, like gitlab-runner
  } catch (error) {
    options.onWarning?.(`could not save the system id to ${file}`, error);
  }
  return created;
}

/** A fresh system id: `s_` from the machine id when there is one, `r_` random otherwise. */
export async function generateSystemId(machineIdPaths: string[] = MACHINE_ID_PATHS): Promise<string> {
  const machineId = await readMachineId(machineIdPaths);
  if (machineId !== undefined) return systemIdFromMachineId(machineId);
  let suffix = '';
  for (let index = 0; index < 12; index++) suffix += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return `r_${suffix}`;
}

export function systemIdFromMachineId(machineId: string): string {
  const digest = createHmac('sha256', machineId).update('gitlab-runner').digest('hex');
  return `s_${digest.slice(0, 12)}`;
}

export function isValidSystemId(value: string): boolean {
  return VALID_SYSTEM_ID.test(value);
}

async function readValidSystemId(file: string): Promise<string | undefined> {
  try {
    const value = (await readFile(file, 'utf8')).trim();
    return isValidSystemId(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readMachineId(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      const value = (await readFile(path, 'utf8')).trim();
      if (value !== '') return value;
    } catch {
      // try the next location
    }
  }
  return undefined;
}
