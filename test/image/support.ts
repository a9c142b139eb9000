// Helpers for image tests: find the host's Debian cloud kernel and the built image.
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultImageRoot, CURRENT_LINK, IMAGE_FILES } from '../../src/image/layout.js';

/** The newest installed *-cloud-amd64 kernel release with modules, if any. */
export async function hostKernelRelease(): Promise<string | undefined> {
  const releases = (await readdir('/lib/modules').catch(() => [] as string[])).filter((name) => name.endsWith('-cloud-amd64'));
  for (const release of releases.sort().reverse()) {
    const ok = await access(join('/boot', `vmlinuz-${release}`)).then(
      () => true,
      () => false,
    );
    if (ok) return release;
  }
  return undefined;
}

/** The built image directory (`current` under the default root), or undefined when none is built. */
export async function builtImageDir(): Promise<string | undefined> {
  const dir = join(defaultImageRoot(), CURRENT_LINK);
  return access(join(dir, IMAGE_FILES.manifest)).then(
    () => dir,
    () => undefined,
  );
}
