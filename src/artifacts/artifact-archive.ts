// Builds the upload body for one artifacts[] entry in its `artifact_format`, from a tar stream
// read out of the environment: zip (archive, lsif), gzip (junit, dotenv, …) or raw (sast, …).
import { posix } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { TartError } from '../errors.js';
import { copyTarOut } from '../executor/streams.js';
import type { JobEnvironment } from '../executor/types.js';
import { gzipMembersFromTar } from './gzip-from-tar.js';
import type { EnvironmentEntry } from './list-environment-files.js';
import { zipFromTar } from './zip-from-tar.js';

export interface ArtifactArchive {
  /** The multipart file name: `<name>.zip`, `<name>.gz` or `<name>`. */
  filename: string;
  /** A fresh body stream each call (a retried upload rebuilds the archive). */
  open(signal: AbortSignal): Readable;
}

/** Plans the archive; throws TartError when the format cannot hold the selection. */
export function planArtifactArchive(input: {
  env: JobEnvironment;
  projectDir: string;
  entries: EnvironmentEntry[];
  /** The expanded artifact name (may be a path; its base name is used). */
  name: string;
  format: string;
  compressionLevel?: number;
}): ArtifactArchive {
  const baseName = artifactBaseName(input.name);
  const tarOf = (paths: string[], signal: AbortSignal): Readable =>
    copyTarOut(input.env, { directory: input.projectDir, paths, signal, dereferenceHardLinks: true });
  const regularFiles = input.entries.filter((entry) => entry.type === 'file').map((entry) => entry.path);
  switch (input.format) {
    case 'zip':
    case '': {
      const paths = input.entries.map((entry) => entry.path);
      return {
        filename: `${baseName}.zip`,
        open: (signal) => zipFromTar(tarOf(paths, signal), { compressionLevel: input.compressionLevel }),
      };
    }
    case 'gzip':
      return {
        filename: `${baseName}.gz`,
        open: (signal) => gzipMembersFromTar(tarOf(regularFiles, signal)),
      };
    case 'raw':
      if (regularFiles.length !== 1) {
        throw new TartError('ARTIFACT_RAW_NOT_SINGLE', 'only one file can be sent as raw', {
          details: { files: regularFiles.length },
        });
      }
      return { filename: baseName, open: (signal) => firstFileOf(tarOf(regularFiles, signal)) };
    default:
      throw new TartError('ARTIFACT_FORMAT_UNSUPPORTED', `unsupported artifact format: ${input.format}`);
  }
}

/** gitlab-runner: the name's base name; `artifacts` when absent, `default` when it reduces to nothing. */
export function artifactBaseName(name: string): string {
  const base = posix.basename(name.trim());
  return base === '' || base === '.' || base === '..' ? 'default' : base;
}

// The data of the single file entry in `tar`.
function firstFileOf(tar: Readable): Readable {
  const output = new PassThrough();
  const entries = tarExtract();
  tar.on('error', (error) => entries.destroy(error));
  entries.on('error', (error: Error) => output.destroy(error));
  entries.on('entry', (header, stream, next) => {
    if (header.type !== 'file') {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    stream.on('end', () => next());
    stream.pipe(output as unknown as Writable);
  });
  output.on('close', () => {
    if (!output.writableFinished) tar.destroy();
  });
  tar.pipe(entries as unknown as Writable);
  return output;
}
