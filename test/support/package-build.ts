// Builds Tart's packages from a copy of this checkout, so a test never rewrites the checkout's own
// dist/ (other tests run bin/tart.js meanwhile). The copy links the checkout's node_modules for the
// build tools only; what gets installed from the packages never sees them.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const CHECKOUT = join(import.meta.dirname, '..', '..');

export interface BuildDir {
  /** The work dir: `checkout/` is the copy; put outputs beside it. */
  dir: string;
  checkout: string;
  /** The revision recorded in the copy's build (the checkout has no .git). */
  revision: string;
  cleanup(): Promise<void>;
}

/** Copies the files git knows (tracked and untracked-but-not-ignored) into a temp dir. */
export async function copyCheckout(): Promise<BuildDir> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-package-'));
  const checkout = join(dir, 'checkout');
  const { stdout } = await execFileAsync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: CHECKOUT,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  for (const path of stdout.split('\0').filter(Boolean)) {
    await mkdir(join(checkout, dirname(path)), { recursive: true });
    await cp(join(CHECKOUT, path), join(checkout, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // deleted in the work tree, not yet in the index
    });
  }
  await symlink(join(CHECKOUT, 'node_modules'), join(checkout, 'node_modules'));
  const revision = (
    await execFileAsync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: CHECKOUT })
  ).stdout.trim();
  return { dir, checkout, revision, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface PackResult {
  tarball: string;
  files: string[];
}

/** `npm pack` (its prepack builds dist/) into `build.dir`. */
export async function packTarball(build: BuildDir, signal?: AbortSignal): Promise<PackResult> {
  const { stdout } = await execFileAsync('npm', ['pack', '--json', '--pack-destination', build.dir], {
    cwd: build.checkout,
    signal,
    env: { ...process.env, TART_REVISION: build.revision },
    maxBuffer: 16 * 1024 * 1024,
  });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!result) throw new Error('npm pack printed no result');
  return { tarball: join(build.dir, result.filename), files: result.files.map((file) => file.path) };
}
