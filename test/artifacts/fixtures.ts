// Shared by the artifacts and cache tests: project trees on disk (and a host environment holding
// one), a snapshot of a tree that compares contents, modes, symlinks and mtimes, and a minimal job
// payload.
import { createHash } from 'node:crypto';
import {
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JobPayload } from '../../src/model/payload.js';
import { createHostEnvironment, type HostEnvironment } from '../support/host-environment.js';

export type TreeSpec = Record<
  string,
  | string
  | Buffer
  | { mode?: number; content?: string | Buffer; symlink?: string; dir?: true; hardlinkTo?: string }
>;

/** A host environment whose builds dir holds the project `acme/widget` written from `spec`. */
export async function hostProject(spec: TreeSpec): Promise<{ env: HostEnvironment; projectDir: string }> {
  const env = await createHostEnvironment();
  const projectDir = join(env.buildsDir, 'acme', 'widget');
  await writeTree(projectDir, spec);
  return { env, projectDir };
}

/** Writes `spec` under `root`; mtimes are pinned so round trips can compare them. */
export async function writeTree(
  root: string,
  spec: TreeSpec,
  mtime = new Date('2024-05-06T07:08:09Z'),
): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [path, value] of Object.entries(spec)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    const entry = typeof value === 'string' || Buffer.isBuffer(value) ? { content: value } : value;
    if (entry.symlink !== undefined) {
      await symlink(entry.symlink, target);
      continue;
    }
    if (entry.hardlinkTo !== undefined) {
      await link(join(root, entry.hardlinkTo), target);
      continue;
    }
    if (entry.dir) await mkdir(target, { recursive: true });
    else await writeFile(target, entry.content ?? '');
    if (entry.mode !== undefined) await chmod(target, entry.mode);
  }
  await pinTimes(root, mtime);
}

// Sets every file's and dir's mtime, deepest first so directory times stick.
async function pinTimes(root: string, mtime: Date): Promise<void> {
  const names = (await walk(root)).reverse();
  for (const name of names) {
    const info = await lstat(join(root, name));
    if (!info.isSymbolicLink()) await utimes(join(root, name), mtime, mtime);
  }
}

export interface SnapshotEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime?: number;
  sha256?: string;
  target?: string;
}

/** Every entry under `root` by relative path (symlinks not followed). */
export async function snapshotTree(
  root: string,
  options: { mtimes?: boolean } = {},
): Promise<Record<string, SnapshotEntry>> {
  const snapshot: Record<string, SnapshotEntry> = {};
  for (const name of await walk(root)) {
    const path = join(root, name);
    const info = await lstat(path);
    const mtime = options.mtimes === false ? undefined : Math.floor(info.mtimeMs / 1000);
    if (info.isSymbolicLink())
      snapshot[name] = { type: 'symlink', mode: 0o777, target: await readlink(path) };
    else if (info.isDirectory()) snapshot[name] = { type: 'directory', mode: info.mode & 0o7777, mtime };
    else {
      const sha256 = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      snapshot[name] = { type: 'file', mode: info.mode & 0o7777, mtime, sha256 };
    }
  }
  return snapshot;
}

/** Lists a directory tree (names only), for "nothing was written here" assertions. */
export async function listTree(root: string): Promise<string[]> {
  return walk(root);
}

// Relative paths under `root`, sorted, never following symlinks (readdir's recursive mode does).
async function walk(root: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for (const dirent of await readdir(join(root, prefix), { withFileTypes: true })) {
    const name = prefix === '' ? dirent.name : `${prefix}/${dirent.name}`;
    names.push(name);
    if (dirent.isDirectory()) names.push(...(await walk(root, name)));
  }
  return names.sort();
}

export function jobPayload(overrides: Partial<JobPayload> = {}): JobPayload {
  return {
    id: 4130,
    token: 'glcbt-64_secrettoken',
    job_info: {
      id: 4130,
      name: 'build',
      stage: 'build',
      project_id: 42,
      project_name: 'widget',
      project_full_path: 'acme/widget',
    },
    git_info: {
      repo_url: 'https://gitlab.example.com/acme/widget.git',
      ref: 'main',
      sha: 'a'.repeat(40),
      before_sha: '0'.repeat(40),
      ref_type: 'branch',
      refspecs: [],
      depth: 20,
    },
    runner_info: { timeout: 3600 },
    variables: [],
    steps: [],
    hooks: [],
    artifacts: [],
    cache: [],
    dependencies: [],
    features: {},
    ...overrides,
  };
}

/** Collects trace lines; `text()` is the trace without colours. */
export function traceCollector(): { log: (line: string) => void; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return {
    lines,
    log: (line) => lines.push(line),
    text: () => lines.map((line) => line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd()).join('\n'),
  };
}
