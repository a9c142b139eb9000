// Tar streams into and out of a JobEnvironment, built on its `exec` seam.
import { PassThrough, type Readable } from 'node:stream';
import { TartError } from '../errors.js';
import type { JobEnvironment } from './types.js';

/** Extracts a tar stream into `directory` (created if missing) inside the environment. */
export async function copyTarIn(
  env: JobEnvironment,
  options: { directory: string; tar: Readable; signal?: AbortSignal },
): Promise<void> {
  const stderr = collect();
  // A tar stream that fails (a corrupt archive entry) names the cause; tar's own "unexpected
  // EOF" would only echo it.
  let sourceError: Error | undefined;
  options.tar.on('error', (error: Error) => {
    sourceError ??= error;
  });
  const exited = env
    .exec({
      command: ['sh', '-c', 'mkdir -p -- "$1" && exec tar -x --no-same-owner -f - -C "$1"', 'tart-copy-in', options.directory],
      stdin: options.tar,
      stderr: stderr.stream,
      signal: options.signal,
    })
    .catch((error: unknown) => {
      throw sourceError ?? error;
    });
  const { exitCode } = await exited;
  if (sourceError !== undefined) throw sourceError;
  if (exitCode !== 0) {
    throw new TartError('COPY_IN_FAILED', `tar extraction into ${options.directory} failed (exit ${exitCode}): ${stderr.text()}`);
  }
}

/**
 * Streams a tar of `paths` (relative to `directory`) out of the environment. Paths are sent
 * NUL-separated on stdin, so no name is ever parsed by a shell. The returned stream errors
 * when tar fails.
 */
export function copyTarOut(
  env: JobEnvironment,
  options: {
    directory: string;
    paths: string[];
    signal?: AbortSignal;
    /** Store every hard link as a regular file (archives whose format has no hard links, e.g. zip). */
    dereferenceHardLinks?: boolean;
  },
): Readable {
  const output = new PassThrough();
  const stderr = collect();
  const list = options.paths.map((path) => `${path}\0`).join('');
  const hardLinks = options.dereferenceHardLinks === true ? ['--hard-dereference'] : [];
  env
    .exec({
      command: ['tar', '-c', '-f', '-', '-C', options.directory, ...hardLinks, '--no-recursion', '--null', '-T', '-'],
      stdin: list,
      stdout: output,
      stderr: stderr.stream,
      signal: options.signal,
    })
    .then(
      ({ exitCode }) => {
        if (exitCode === 0) output.end();
        else output.destroy(new TartError('COPY_OUT_FAILED', `tar of ${options.directory} failed (exit ${exitCode}): ${stderr.text()}`));
      },
      (error: unknown) => output.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  return output;
}

// Collects a command's stderr (bounded) for error messages.
function collect(limit = 4096): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    if (text.length < limit) text += chunk.toString('utf8').slice(0, limit - text.length);
  });
  return { stream, text: () => text.trim() };
}
