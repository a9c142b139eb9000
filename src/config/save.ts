// TartConfig → gitlab-runner-style TOML, written atomically (temp file in the same directory,
// fsync, rename) with mode 0600, because the file holds runner tokens.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'smol-toml';
import { unexpandedKeys } from './env-expansion.js';
import { encodeTable, isTable, type HostDefaults, type TomlOut } from './fields.js';
import { hostDefaults } from './paths.js';
import { configShape } from './schema.js';
import type { TartConfig } from './types.js';

export async function saveConfig(
  path: string,
  config: TartConfig,
  defaults: HostDefaults = hostDefaults(),
): Promise<void> {
  await writeFileAtomic(path, renderConfig(config, defaults));
}

/** The TOML text saveConfig writes: keys that equal their default are left out. */
export function renderConfig(config: TartConfig, defaults: HostDefaults = hostDefaults()): string {
  const lines: string[] = [];
  const encoded = encodeTable(configShape, config, defaults);
  keepUnexpandedValues(config, encoded);
  renderTable(encoded, [], '', lines);
  return `${lines.join('\n').replace(/^\n+/, '')}\n`;
}

// A `$VAR` url/token/clone_url is written back as `$VAR`, unless Tart changed the value (a new token).
function keepUnexpandedValues(config: TartConfig, encoded: { [key: string]: TomlOut }): void {
  const runners = encoded.runners;
  if (!Array.isArray(runners)) return;
  config.runners.forEach((runner, index) => {
    const table = runners[index];
    if (isTable(table)) Object.assign(table, unexpandedKeys(runner, table));
  });
}

/** Writes `text` to `path` so readers see the old or the new file, never a torn one. */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const owner = await ownerToKeep(path);
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.chmod(mode);
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

// `sudo tart register` rewriting a config.toml the service user owns (the Debian package's
// /etc/tart/config.toml belongs to `tart`) keeps that owner, so the service can still read it.
async function ownerToKeep(path: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await stat(path).catch(() => undefined);
  return existing && (existing.uid !== 0 || existing.gid !== 0) ? { uid: existing.uid, gid: existing.gid } : undefined;
}

// Makes the rename itself durable; some filesystems refuse to fsync a directory, which is fine.
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

// gitlab-runner's layout: scalars first, then [sub.tables] and [[arrays]], children indented by two.
function renderTable(
  table: { [key: string]: TomlOut },
  path: string[],
  indent: string,
  lines: string[],
): void {
  const childIndent = path.length === 0 ? '' : `${indent}  `;
  const entries = Object.entries(table);
  for (const [key, value] of entries) {
    if (!isTable(value) && !isTableArray(value))
      lines.push(`${childIndent}${renderKey(key)} = ${renderValue(value)}`);
  }
  for (const [key, value] of entries) {
    const header = [...path, key].map(renderKey).join('.');
    const headerIndent = path.length === 0 ? '' : childIndent;
    if (isTable(value)) {
      lines.push('', `${headerIndent}[${header}]`);
      renderTable(value as { [key: string]: TomlOut }, [...path, key], headerIndent, lines);
    } else if (isTableArray(value)) {
      for (const item of value) {
        lines.push('', `${headerIndent}[[${header}]]`);
        renderTable(item, [...path, key], headerIndent, lines);
      }
    }
  }
}

function isTableArray(value: TomlOut): value is { [key: string]: TomlOut }[] {
  return Array.isArray(value) && value.length > 0 && value.every(isTable);
}

function renderKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

function renderValue(value: TomlOut): string {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(value)) return `[${value.map(renderValue).join(', ')}]`;
  if (typeof value === 'string') return stringify({ v: value }).slice('v = '.length).trimEnd();
  return String(value);
}
