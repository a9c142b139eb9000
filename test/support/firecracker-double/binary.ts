// Writes an executable wrapper that runs the fake Firecracker (a TEST DOUBLE) through tsx, so the
// driver's real spawn path (`<binary> --api-sock … --id …`) is exercised. Written into a temp dir
// so its exec bit does not depend on how the repository was checked out.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './spec-path.js';

const TSX_LOADER = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const FAKE_MAIN = fileURLToPath(new URL('./fake-firecracker.ts', import.meta.url));

/** Creates `<dir>/firecracker` and returns its path. */
export async function fakeFirecrackerBinary(dir: string): Promise<string> {
  const path = join(dir, 'firecracker');
  const script = `#!/bin/sh\n# firecracker TEST DOUBLE (see test/support/firecracker-double/README.md)\nexec "${process.execPath}" --import "${TSX_LOADER}" "${FAKE_MAIN}" "$@"\n`;
  await writeFile(path, script, { mode: 0o755 });
  await chmod(path, 0o755);
  return path;
}
