// The download_artifacts stage (job-execution ref §5.4): each dependency with an artifacts file
// is staged in a private host temp dir, validated entry by entry, and streamed as tar into the
// project dir of the environment. Nothing from the archive is ever extracted on the host.
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hasCode, TartError } from '../errors.js';
import { copyTarIn } from '../executor/streams.js';
import type { JobEnvironment } from '../executor/types.js';
import type { JobDependency, JobPayload } from '../model/payload.js';
import { helperLine, notice } from './trace-lines.js';
import type { ArtifactTransport } from './transport.js';
import { freeBytes } from './free-space.js';
import { openZipAsTar } from './zip-to-tar.js';

export interface DownloadArtifactsInput {
  env: JobEnvironment;
  job: JobPayload;
  projectDir: string;
  transport: ArtifactTransport;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Throws TartError ARTIFACT_DOWNLOAD_FAILED or ARTIFACT_UNSAFE_ENTRY; nothing of a refused archive is written. */
export async function downloadArtifacts(input: DownloadArtifactsInput): Promise<void> {
  for (const dependency of input.job.dependencies) {
    if (!dependency.artifacts_file?.filename) continue;
    input.log(notice(`Downloading artifacts for ${dependency.name} (${dependency.id})...`));
    await downloadOne(dependency, input);
  }
}

async function downloadOne(dependency: JobDependency, input: DownloadArtifactsInput): Promise<void> {
  // mkdtemp makes the dir 0700: other host users never see a dependency's archive.
  const staging = await mkdtemp(join(tmpdir(), 'tart-artifacts-'));
  try {
    const zipPath = join(staging, 'artifacts.zip');
    await fetchToFile(dependency, zipPath, input);
    input.log(
      helperLine('info', 'Downloading artifacts from coordinator... ok', {
        id: dependency.id,
        responseStatus: '200 OK',
      }),
    );
    await requireZip(zipPath, dependency);
    await extractIntoEnvironment(zipPath, dependency, input);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function fetchToFile(
  dependency: JobDependency,
  zipPath: string,
  input: DownloadArtifactsInput,
): Promise<void> {
  try {
    const body = await input.transport.download({ dependency, signal: input.signal });
    await pipeline(body, createWriteStream(zipPath, { mode: 0o600 }), { signal: input.signal });
  } catch (error) {
    if (input.signal.aborted) throw error;
    input.log(helperLine('error', 'Downloading artifacts from coordinator... failed', { id: dependency.id }));
    throw failed(dependency, `download failed: ${(error as Error).message}`, error);
  }
}

// gitlab-runner sniffs zstd and gzip too; dependencies' `archive` artifacts are always zip.
async function requireZip(zipPath: string, dependency: JobDependency): Promise<void> {
  const file = await open(zipPath, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0);
    const magic = buffer.subarray(0, bytesRead);
    if (magic[0] === 0x50 && magic[1] === 0x4b) return;
    const kind =
      magic[0] === 0x1f && magic[1] === 0x8b
        ? 'gzip'
        : magic.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))
          ? 'zstd'
          : 'unknown';
    throw failed(dependency, `unsupported archive format (${kind}); only zip archives can be extracted`);
  } finally {
    await file.close();
  }
}

async function extractIntoEnvironment(
  zipPath: string,
  dependency: JobDependency,
  input: DownloadArtifactsInput,
): Promise<void> {
  try {
    const { tar, entries } = await openZipAsTar({ zipPath, projectDir: input.projectDir });
    // Entry sizes are enforced while streaming, so the declared total bounds what is written:
    // a bomb that cannot fit fails now rather than after streaming until the disk is full.
    const declared = entries.reduce((sum, entry) => sum + entry.size, 0);
    const free = await freeBytes(input.env, input.projectDir, input.signal);
    if (free !== undefined && declared > free) {
      tar.destroy();
      throw new TartError(
        'ARTIFACT_TOO_LARGE',
        `the archive would extract ${declared} bytes in ${entries.length} entries, but only ${free} bytes are free in ${input.projectDir}`,
      );
    }
    await copyTarIn(input.env, { directory: input.projectDir, tar, signal: input.signal });
  } catch (error) {
    if (hasCode(error, 'ARTIFACT_UNSAFE_ENTRY') || input.signal.aborted) {
      if (error instanceof TartError) input.log(helperLine('error', error.message, { id: dependency.id }));
      throw error;
    }
    throw failed(dependency, `extraction failed: ${(error as Error).message}`, error);
  }
}

function failed(dependency: JobDependency, message: string, cause?: unknown): TartError {
  return new TartError(
    'ARTIFACT_DOWNLOAD_FAILED',
    `artifacts of ${dependency.name} (${dependency.id}): ${message}`,
    {
      cause,
      details: { dependencyId: dependency.id },
    },
  );
}
