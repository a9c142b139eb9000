// Lists files inside the job environment (which may be a VM) with one `find` and one `git`
// call, so matching can happen on the host without reading any guest file. Needs GNU find.
import { PassThrough } from 'node:stream';
import { TartError } from '../errors.js';
import type { JobEnvironment } from '../executor/types.js';

export type EntryType = 'file' | 'directory' | 'symlink';

/** One entry of the project dir, path relative to it with `/` separators. */
export interface EnvironmentEntry {
  path: string;
  type: EntryType;
  /** Modification time (ms since the epoch), for cache freshness. */
  mtimeMs: number;
}

/**
 * Lists `startPoints` (project-relative; `.` = everything) recursively, without following
 * symlinks, in depth-first pre-order (a directory comes right before its contents).
 * Missing start points are left out. Sockets, pipes and devices are skipped.
 */
export async function listEnvironmentEntries(input: {
  env: JobEnvironment;
  projectDir: string;
  startPoints: string[];
  signal: AbortSignal;
}): Promise<EnvironmentEntry[]> {
  if (input.startPoints.length === 0) return [];
  // `./` keeps a name that starts with `-` from being read as an option.
  const starts = input.startPoints.map((start) => (start === '.' ? '.' : `./${start}`));
  const output = await runCollecting(input.env, {
    command: ['find', ...starts, '-printf', '%y %T@ %p\\0'],
    cwd: input.projectDir,
    signal: input.signal,
    // 1: some start point is missing; that is just "no match" here.
    acceptExitCodes: [0, 1],
  });
  return parseFindOutput(output);
}

/** `git ls-files -o -z` in the project dir: untracked files, .gitignored ones included. */
export async function listUntrackedFiles(input: {
  env: JobEnvironment;
  projectDir: string;
  signal: AbortSignal;
}): Promise<string[]> {
  const output = await runCollecting(input.env, {
    command: ['git', 'ls-files', '--others', '-z'],
    cwd: input.projectDir,
    signal: input.signal,
    acceptExitCodes: [0],
  });
  return output
    .toString('utf8')
    .split('\0')
    .filter((path) => path.length > 0)
    .map((path) => path.replace(/\/+$/, ''));
}

/** Parses `%y %T@ %p\0` records; exported for tests. */
export function parseFindOutput(output: Buffer): EnvironmentEntry[] {
  const entries: EnvironmentEntry[] = [];
  for (const record of output.toString('utf8').split('\0')) {
    if (record.length === 0) continue;
    const firstSpace = record.indexOf(' ');
    const secondSpace = record.indexOf(' ', firstSpace + 1);
    const type = toEntryType(record.slice(0, firstSpace));
    const path = normaliseFoundPath(record.slice(secondSpace + 1));
    if (type === undefined || path === undefined) continue;
    entries.push({
      path,
      type,
      mtimeMs: Math.round(Number(record.slice(firstSpace + 1, secondSpace)) * 1000),
    });
  }
  return entries;
}

function toEntryType(code: string): EntryType | undefined {
  if (code === 'f') return 'file';
  if (code === 'd') return 'directory';
  if (code === 'l') return 'symlink';
  return undefined;
}

// `./a/b` → `a/b`; the start point `.` itself is the project dir, never an entry.
function normaliseFoundPath(found: string): string | undefined {
  if (found === '.') return undefined;
  return found.startsWith('./') ? found.slice(2) : found;
}

// Runs a command, returning stdout; other exit codes become a TartError with stderr.
async function runCollecting(
  env: JobEnvironment,
  options: { command: string[]; cwd: string; signal: AbortSignal; acceptExitCodes: number[] },
): Promise<Buffer> {
  const stdoutChunks: Buffer[] = [];
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  let stderrText = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => {
    if (stderrText.length < 2048) stderrText += chunk.toString('utf8');
  });
  const { exitCode } = await env.exec({
    command: options.command,
    cwd: options.cwd,
    stdout,
    stderr,
    signal: options.signal,
  });
  if (!options.acceptExitCodes.includes(exitCode)) {
    throw new TartError(
      'FILE_LISTING_FAILED',
      `${options.command[0]} in ${options.cwd} failed (exit ${exitCode}): ${stderrText.trim()}`,
      {
        details: { exitCode },
      },
    );
  }
  return Buffer.concat(stdoutChunks);
}
