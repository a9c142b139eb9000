// How many bytes the environment can still store under a directory, asked of `df` inside it,
// so an archive that cannot fit is refused before its first byte is streamed.
import { PassThrough } from 'node:stream';
import type { JobEnvironment } from '../executor/types.js';

/** Free bytes of the filesystem holding `directory` (or its nearest existing parent); undefined when df cannot tell. */
export async function freeBytes(
  env: JobEnvironment,
  directory: string,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const script = 'd=$1; while [ ! -d "$d" ]; do d=$(dirname -- "$d"); done; exec df -Pk -- "$d"';
  try {
    const { exitCode } = await env.exec({
      command: ['sh', '-c', script, 'tart-free-space', directory],
      stdout,
      signal,
    });
    if (exitCode !== 0) return undefined;
  } catch {
    return undefined;
  }
  const lastLine = Buffer.concat(chunks).toString('utf8').trim().split('\n').at(-1) ?? '';
  const availableKiB = Number(lastLine.split(/\s+/)[3]);
  return Number.isFinite(availableKiB) ? availableKiB * 1024 : undefined;
}
