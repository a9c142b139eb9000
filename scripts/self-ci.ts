// Tart runs its own CI as a user would: the project's .gitlab-ci.yml under `tart exec --executor
// qemu`, every job in a microVM whose user stages run in a Node 20 image. The image is built from
// Debian packages and the host's Node (test/support/oci/test-images.ts, cached by its inputs) and
// served by a registry on 127.0.0.1 for the length of the run; nothing is pulled from Docker Hub.
//   npx tsx scripts/self-ci.ts [tart exec options and jobs]   (scripts/self-ci.sh wraps it)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startRegistry } from '../test/support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../test/support/oci/test-images.js';

const REPO = join(import.meta.dirname, '..');
export const SELF_CI_IMAGE_REPOSITORY = 'tart-ci/node';

/** Runs the pipeline and resolves with `tart exec`'s exit code; its output goes to `stdio`. */
export async function runSelfCi(execArgs: readonly string[], stdio: 'inherit' | 'pipe' = 'inherit', onOutput?: (text: string) => void): Promise<number> {
  const layout = await testImageLayout('node');
  const registry = await startRegistry();
  try {
    pushTestImage(layout, registry.host, SELF_CI_IMAGE_REPOSITORY, '20');
    const image = `${registry.host}/${SELF_CI_IMAGE_REPOSITORY}:20`;
    const args = [join(REPO, 'bin', 'tart.js'), 'exec', '--executor', 'qemu', '--cwd', REPO, '--variable', `TART_CI_IMAGE=${image}`, ...execArgs];
    const child = spawn(process.execPath, args, { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', (text: string) => onOutput?.(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => onOutput?.(text));
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    await registry.stop();
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  process.exitCode = await runSelfCi(process.argv.slice(2));
}
