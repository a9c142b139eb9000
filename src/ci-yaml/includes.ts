// Phase 2: `include:` merged under the file that includes it, which wins. Entries are local files
// (wildcards as GitLab matches them), GitLab's bundled templates and this project's own CI/CD
// components; each may carry `rules:` (evaluated) and `inputs:` (for files with a `spec:` header).
// Paths expand the variables GitLab allows in includes. GitLab's limit of 150 included files
// counts every file an include brings in; the entry file is not one of them.
import { CiConfigError, type SourceLocation } from './errors.js';
import { resolveIncludeEntry, type IncludeSource } from './include-entry.js';
import { applyInputs } from './inputs.js';
import { loadCiFile, pathKey, type CiMap, type CiValue, type LoadedFile, type SourceMap } from './load.js';
import { deepMerge } from './merge.js';
import type { ProjectFiles } from './project-files.js';
import type { RulesContext } from './rules.js';

export interface MergedConfig {
  content: CiMap;
  sources: SourceMap;
  /** Every file read, main file first. */
  files: string[];
  /** Schema complaints that did not stop the run, with file:line. */
  warnings: string[];
}

export interface IncludeOptions {
  /** The schema check of each file as loaded (so its errors point into that file); returns warnings. */
  checkFile?: (file: LoadedFile) => string[];
  /** Variables GitLab expands in include paths and include:rules, and what `exists`/`changes` see. */
  rules?: RulesContext;
}

const MAX_INCLUDED_FILES = 150;

interface ExpandState {
  files: string[];
  included: number;
  warnings: string[];
  options: IncludeOptions;
  projectFiles: ProjectFiles;
}

export async function loadWithIncludes(
  files: ProjectFiles,
  entryFile: string,
  options: IncludeOptions = {},
): Promise<MergedConfig> {
  const text = await files.read(entryFile);
  if (text === undefined)
    throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `configuration file ${entryFile} not found`);
  const state: ExpandState = { files: [], included: 0, warnings: [], options, projectFiles: files };
  const merged = await expand({ file: entryFile, text, inputs: undefined }, state, {
    file: entryFile,
    line: 1,
  });
  return { ...merged, files: state.files, warnings: state.warnings };
}

async function expand(
  source: IncludeSource,
  state: ExpandState,
  includedAt: SourceLocation,
): Promise<{ content: CiMap; sources: SourceMap }> {
  state.files.push(source.file);
  const loaded = loadCiFile(source.file, source.text);
  state.warnings.push(...(state.options.checkFile?.(loaded) ?? []));
  const interpolated = applyInputs({
    content: loaded.content,
    spec: loaded.spec,
    given: source.inputs,
    variables: state.options.rules?.variables ?? new Map(),
    location: includedAt,
  });
  const { include, ...ownContent } = interpolated;
  let content: CiMap = {};
  let sources: SourceMap = new Map();
  for (const [index, entry] of normaliseIncludes(include).entries()) {
    const location = loaded.sources.get(pathKey(['include', index])) ??
      loaded.sources.get(pathKey(['include'])) ?? { file: source.file, line: 1 };
    const resolved = await resolveIncludeEntry(entry, {
      files: state.projectFiles,
      location,
      ...(state.options.rules ? { rules: state.options.rules } : {}),
    });
    for (const included of resolved) {
      if (state.included >= MAX_INCLUDED_FILES)
        throw new CiConfigError(
          'CI_INCLUDE_LIMIT',
          `Maximum of ${MAX_INCLUDED_FILES} nested includes are allowed (is there an include loop?)`,
          { location },
        );
      state.included++;
      const expanded = await expand(included, state, location);
      content = deepMerge(content, expanded.content);
      sources = new Map([...sources, ...expanded.sources]);
    }
  }
  return {
    content: deepMerge(content, ownContent),
    sources: new Map([...sources, ...loaded.sources]),
  };
}

// `include: file`, `include: [file, { local: ... }, ...]`.
function normaliseIncludes(include: CiValue | undefined): CiValue[] {
  if (include === undefined || include === null) return [];
  return Array.isArray(include) ? include : [include];
}
