// `firecracker --version` → "Firecracker v1.16.1", for the job trace's executor line.
import { TartError } from '../../errors.js';
import type { SpawnVmm } from '../spawn.js';

const VERSION_TIMEOUT_MS = 5_000;

/** Runs `<binary> --version` and returns its first line. */
export function describeFirecracker(
  spawner: SpawnVmm,
  binary: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawner(binary, ['--version'], { env, timeout: VERSION_TIMEOUT_MS });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.resume();
    child.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' ? 'FIRECRACKER_NOT_FOUND' : 'FIRECRACKER_SPAWN_FAILED';
      reject(
        new TartError(code, `cannot run ${binary} --version: ${error.message}`, {
          cause: error,
          details: { binary },
        }),
      );
    });
    child.once('close', (code) => {
      const firstLine = Buffer.concat(chunks).toString('utf8').split('\n')[0]?.trim() ?? '';
      if (code === 0 && firstLine !== '') return resolve(firstLine);
      reject(
        new TartError('FIRECRACKER_SPAWN_FAILED', `${binary} --version exited with ${code}`, {
          details: { binary, exitCode: code },
        }),
      );
    });
  });
}
