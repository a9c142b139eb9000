// Tart's own version (package.json) and build revision (dist/build-info.json, written by
// scripts/write-build-info.mjs at build time; a source checkout reads .git instead).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: src/cli/ and dist/cli/ both sit two levels below it. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

let cachedVersion: string | undefined;
let cachedRevision: string | undefined;

export function tartVersion(): string {
  cachedVersion ??= (
    JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return cachedVersion;
}

/** The 8-digit git revision Tart was built from, as gitlab-runner shows it; "unknown" when not recorded. */
export function tartRevision(): string {
  cachedRevision ??= recordedRevision() ?? checkoutRevision(projectRoot()) ?? 'unknown';
  return cachedRevision;
}

// build-info.json beside the running code: dist/build-info.json for the compiled CLI (src/ has
// none, so a source checkout never reads a stale dist/).
function recordedRevision(): string | undefined {
  const text = readOptional(resolve(dirname(fileURLToPath(import.meta.url)), '..', 'build-info.json'));
  if (text === undefined) return undefined;
  const revision = (JSON.parse(text) as { revision?: unknown }).revision;
  return typeof revision === 'string' && revision !== '' ? revision : undefined;
}

// A git checkout run from source: HEAD's commit, read from .git without spawning git (start-up cost).
function checkoutRevision(root: string): string | undefined {
  const gitDir = resolveGitDir(root);
  if (gitDir === undefined) return undefined;
  const head = readOptional(join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return undefined;
  if (!head.startsWith('ref: ')) return shortSha(head);
  const ref = head.slice('ref: '.length);
  const common = readOptional(join(gitDir, 'commondir'))?.trim();
  const dirs = common ? [gitDir, resolve(gitDir, common)] : [gitDir];
  for (const dir of dirs) {
    const sha = readOptional(join(dir, ref))?.trim();
    if (sha) return shortSha(sha);
    const packed = readOptional(join(dir, 'packed-refs'))
      ?.split('\n')
      .find((line) => line.endsWith(` ${ref}`));
    if (packed) return shortSha(packed.split(' ')[0] ?? '');
  }
  return undefined;
}

// `.git` is a directory in a clone and a "gitdir: PATH" file in a worktree.
function resolveGitDir(root: string): string | undefined {
  const dotGit = join(root, '.git');
  const text = readOptional(dotGit);
  if (text === undefined) return readOptional(join(dotGit, 'HEAD')) === undefined ? undefined : dotGit;
  const match = /^gitdir: (.+)$/m.exec(text);
  return match?.[1] ? resolve(root, match[1].trim()) : undefined;
}

function shortSha(sha: string): string | undefined {
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha.slice(0, 8) : undefined;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
