// Phase 2: `include:` (local files and globs, nested) merged under the main file, which wins.
import picomatch from 'picomatch';
import { CiConfigError, type SourceLocation } from './errors.js';
import {
  isPlainMap,
  loadCiFile,
  pathKey,
  type CiMap,
  type CiValue,
  type LoadedFile,
  type SourceMap,
} from './load.js';
import { deepMerge } from './merge.js';
import type { ProjectFiles } from './project-files.js';

export interface MergedConfig {
  content: CiMap;
  sources: SourceMap;
  /** Every file read, main file first. */
  files: string[];
}

// GitLab caps a pipeline at 150 included files; the same guard stops include loops.
const MAX_INCLUDED_FILES = 150;

/** `checkFile` sees each file as loaded (the schema check), so its errors point into that file. */
export async function loadWithIncludes(
  files: ProjectFiles,
  entryFile: string,
  checkFile: (file: LoadedFile) => void = () => {},
): Promise<MergedConfig> {
  const text = await files.read(entryFile);
  if (text === undefined)
    throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `configuration file ${entryFile} not found`);
  const state = { files: [] as string[], checkFile };
  return expand(files, entryFile, text, state);
}

async function expand(
  files: ProjectFiles,
  file: string,
  text: string,
  state: { files: string[]; checkFile: (file: LoadedFile) => void },
): Promise<MergedConfig> {
  state.files.push(file);
  if (state.files.length > MAX_INCLUDED_FILES) {
    throw new CiConfigError(
      'CI_INCLUDE_UNSUPPORTED',
      `more than ${MAX_INCLUDED_FILES} included files (is there an include loop?)`,
      { location: { file, line: 1 } },
    );
  }
  const loaded = loadCiFile(file, text);
  state.checkFile(loaded);
  const { include, ...ownContent } = loaded.content;
  let content: CiMap = {};
  let sources: SourceMap = new Map();
  for (const [index, entry] of normaliseIncludes(include).entries()) {
    const location = loaded.sources.get(pathKey(['include', index])) ??
      loaded.sources.get(pathKey(['include'])) ?? { file, line: 1 };
    for (const path of await resolveLocalInclude(files, entry, location)) {
      const includedText = await files.read(path);
      if (includedText === undefined)
        throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `included file ${path} not found`, { location });
      const included = await expand(files, path, includedText, state);
      content = deepMerge(content, included.content);
      sources = new Map([...sources, ...included.sources]);
    }
  }
  return {
    content: deepMerge(content, ownContent),
    sources: new Map([...sources, ...loaded.sources]),
    files: state.files,
  };
}

// The string form, a list of strings, and `{ local: ... }` hashes all name local files.
function normaliseIncludes(include: CiValue | undefined): CiValue[] {
  if (include === undefined || include === null) return [];
  return Array.isArray(include) ? include : [include];
}

async function resolveLocalInclude(
  files: ProjectFiles,
  entry: CiValue,
  location: SourceLocation,
): Promise<string[]> {
  const local = localPath(entry, location);
  const path = local.replace(/^\/+/, '');
  if (!/[*?[{]/.test(path)) return [path];
  const matcher = picomatch(path, { dot: true });
  const matches = (await files.list()).filter((file) => matcher(file));
  if (matches.length === 0)
    throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `include pattern ${local} matched no files`, {
      location,
    });
  return matches;
}

function localPath(entry: CiValue, location: SourceLocation): string {
  if (typeof entry === 'string') {
    if (/^https?:\/\//.test(entry)) throw unsupported('remote', location);
    return entry;
  }
  if (isPlainMap(entry)) {
    if (typeof entry.local === 'string') return entry.local;
    const kind = ['remote', 'project', 'template', 'component'].find((key) => key in entry) ?? 'unknown';
    throw unsupported(kind, location);
  }
  throw new CiConfigError('CI_INCLUDE_UNSUPPORTED', 'include entries must be file paths or { local: path }', {
    location,
  });
}

function unsupported(kind: string, location: SourceLocation): CiConfigError {
  return new CiConfigError(
    'CI_INCLUDE_UNSUPPORTED',
    `include:${kind} is not supported by tart exec (only local files)`,
    { location },
  );
}
