// Which files of the project dir go into a cache or artifact archive (job-execution ref §4.6):
// `paths` (variable-expanded globs, directories walked recursively), `untracked`, then
// `exclude`. Listing happens in the environment; matching happens here on the host.
import { posix } from 'node:path';
import type { JobEnvironment } from '../executor/types.js';
import type { JobVariable } from '../model/payload.js';
import { expandVariables } from '../model/variables.js';
import {
  listEnvironmentEntries,
  listUntrackedFiles,
  type EnvironmentEntry,
} from './list-environment-files.js';
import { compilePathPattern, globBase } from './path-pattern.js';
import { helperLine } from './trace-lines.js';

export interface FileSelectionRequest {
  env: JobEnvironment;
  projectDir: string;
  variables: JobVariable[];
  paths: string[];
  exclude?: string[];
  untracked?: boolean;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Selected entries in sorted path order (parents before their contents). */
export async function selectFiles(request: FileSelectionRequest): Promise<EnvironmentEntry[]> {
  const patterns = request.paths.map((raw) => resolvePattern(raw, request));
  const usable = patterns.filter((pattern): pattern is ResolvedPattern => pattern !== undefined);
  const startPoints = request.untracked ? ['.'] : minimalStartPoints(usable.map((pattern) => pattern.base));
  const listing = await listEnvironmentEntries({ ...request, startPoints });

  const selected = new Map<string, EnvironmentEntry>();
  for (const pattern of usable) addMatches(pattern, listing, selected, request);
  if (request.untracked) await addUntracked(request, listing, selected);
  for (const raw of request.exclude ?? []) removeExcluded(raw, request, selected);
  warnAboutGitDirectory(selected, request.log);
  return [...selected.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface ResolvedPattern {
  /** As the user wrote it after expansion, for log lines. */
  display: string;
  /** Project-relative; '' is the project dir itself. */
  relative: string;
  base: string;
}

// Expands variables, makes the pattern project-relative and refuses paths outside the project.
function resolvePattern(raw: string, request: FileSelectionRequest): ResolvedPattern | undefined {
  const display = expandVariables(raw, request.variables);
  if (display.trim() === '') {
    request.log(helperLine('warning', 'No matching files. Path is empty.'));
    return undefined;
  }
  const relative = projectRelative(display, request.projectDir);
  if (relative === undefined) {
    request.log(
      helperLine('warning', `processPath: artifact path is not a subpath of project directory: ${display}`),
    );
    return undefined;
  }
  const base = globBase(relative.replace(/\/+$/, ''));
  return { display, relative, base: base === '' ? '.' : base };
}

/** `p` (relative or absolute) as a project-relative slash path; undefined when outside. Keeps a trailing `/`. */
export function projectRelative(path: string, projectDir: string): string | undefined {
  const trailingSlash = path.endsWith('/') && path.length > 1;
  const relative = posix.relative(projectDir, posix.resolve(projectDir, path));
  if (relative === '..' || relative.startsWith('../') || posix.isAbsolute(relative)) return undefined;
  return relative !== '' && trailingSlash ? `${relative}/` : relative;
}

// Start points for `find`, dropping any that lie inside another (their entries would repeat).
function minimalStartPoints(bases: string[]): string[] {
  const unique = [...new Set(bases)].sort();
  if (unique.includes('.')) return ['.'];
  return unique.filter((base) => !unique.some((other) => other !== base && base.startsWith(`${other}/`)));
}

// Adds every entry matching the pattern, and everything under a matched directory.
function addMatches(
  pattern: ResolvedPattern,
  listing: EnvironmentEntry[],
  selected: Map<string, EnvironmentEntry>,
  request: FileSelectionRequest,
): void {
  const compiled = compilePathPattern(pattern.relative);
  let count = 0;
  let walkingUnder: string | undefined;
  for (const entry of listing) {
    // find lists in pre-order, so a directory's contents directly follow it.
    const inside = walkingUnder !== undefined && entry.path.startsWith(walkingUnder);
    const matched =
      inside ||
      pattern.relative === '' ||
      (compiled.matches(entry.path) && (!compiled.directoriesOnly || entry.type === 'directory'));
    if (!inside) walkingUnder = undefined;
    if (!matched) continue;
    if (!inside && entry.type === 'directory') walkingUnder = `${entry.path}/`;
    selected.set(entry.path, entry);
    count += 1;
  }
  const message =
    count > 0
      ? helperLine('info', `${pattern.display}: found ${count} matching artifact files and directories`)
      : helperLine(
          'warning',
          `${pattern.display}: no matching files. Ensure that the artifact path is relative to the working directory (${request.projectDir})`,
        );
  request.log(message);
}

// Adds `git ls-files -o` results (files, and nested repositories as directories).
async function addUntracked(
  request: FileSelectionRequest,
  listing: EnvironmentEntry[],
  selected: Map<string, EnvironmentEntry>,
): Promise<void> {
  let untracked: Set<string>;
  try {
    untracked = new Set(await listUntrackedFiles(request));
  } catch (error) {
    // Not a git work tree (GIT_STRATEGY=none, …): nothing is untracked, as with gitlab-runner.
    if (request.signal.aborted) throw error;
    request.log(helperLine('warning', `untracked: ${(error as Error).message}`));
    untracked = new Set();
  }
  let count = 0;
  for (const entry of listing) {
    if (!untracked.has(entry.path)) continue;
    selected.set(entry.path, entry);
    count += 1;
  }
  if (count > 0) request.log(helperLine('info', `untracked: found ${count} files`));
  else request.log(helperLine('warning', 'untracked: no files'));
}

// Exclusion matches the exact path (not recursive), like doublestar Match in gitlab-runner.
function removeExcluded(
  raw: string,
  request: FileSelectionRequest,
  selected: Map<string, EnvironmentEntry>,
): void {
  const display = expandVariables(raw, request.variables);
  const relative = projectRelative(display, request.projectDir);
  if (relative === undefined || relative === '') return;
  const compiled = compilePathPattern(relative);
  let count = 0;
  for (const path of [...selected.keys()]) {
    if (compiled.matches(path)) {
      selected.delete(path);
      count += 1;
    }
  }
  request.log(helperLine('info', `${display}: excluded ${count} files`));
}

function warnAboutGitDirectory(selected: Map<string, EnvironmentEntry>, log: (line: string) => void): void {
  for (const path of selected.keys()) {
    if (path === '.git' || path.startsWith('.git/')) {
      log(helperLine('warning', 'Part of .git directory is on the list of files to archive'));
      log(helperLine('warning', 'This may introduce unexpected problems'));
      return;
    }
  }
}
