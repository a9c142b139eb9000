// One `include:` entry → the files it brings in: after its `rules:`, with variables expanded in its
// path, local wildcards matched as GitLab matches them (`*` within a directory, `**` across them),
// `template:` read from the GitLab templates shipped with Tart, and `component:` read from this
// project's own `templates/` directory.
import { readFile } from 'node:fs/promises';
import { CiConfigError, type SourceLocation } from './errors.js';
import { isPlainMap, type CiMap, type CiValue } from './load.js';
import type { ProjectFiles } from './project-files.js';
import { evaluateJobRules, type RulesContext } from './rules.js';
import { templateFile, UNRUNNABLE_TEMPLATES } from './templates.js';
import { expandKeepingUnknown } from './variables.js';

export interface IncludeSource {
  /** Project-relative path, or `template:<name>` for a GitLab template. */
  file: string;
  text: string;
  inputs: CiValue | undefined;
}

interface EntryContext {
  files: ProjectFiles;
  location: SourceLocation;
  rules?: RulesContext;
}

export async function resolveIncludeEntry(entry: CiValue, context: EntryContext): Promise<IncludeSource[]> {
  const { location } = context;
  if (typeof entry === 'string')
    return /^https?:\/\//.test(entry)
      ? unsupported('remote', location)
      : localFiles(entry, undefined, context);
  if (!isPlainMap(entry))
    throw new CiConfigError('CI_INCLUDE_UNSUPPORTED', 'include entries must be file paths or mappings', {
      location,
    });
  if (entry.rules !== undefined && !(await includeRulesMatch(entry, context))) return [];
  if (typeof entry.local === 'string') return localFiles(entry.local, entry.inputs, context);
  if (typeof entry.template === 'string') return [await template(entry.template, location)];
  if (typeof entry.component === 'string') return [await component(entry.component, entry.inputs, context)];
  const kind = ['remote', 'project', 'file'].find((key) => key in entry);
  if (kind) return unsupported(kind === 'file' ? 'project' : kind, location);
  throw new CiConfigError(
    'CI_INCLUDE_UNSUPPORTED',
    'an include entry needs one of local, template, component, remote or project',
    { location },
  );
}

// include:rules take if, exists and changes; `when: never` excludes, like a job's rules.
async function includeRulesMatch(entry: CiMap, context: EntryContext): Promise<boolean> {
  if (!context.rules) return true;
  const outcome = await evaluateJobRules({ rules: entry.rules ?? null }, context.rules, {
    location: context.location,
    job: 'include',
  });
  return outcome.included;
}

function expand(path: string, context: EntryContext): string {
  return context.rules ? expandKeepingUnknown(path, context.rules.variables) : path;
}

async function localFiles(
  written: string,
  inputs: CiValue | undefined,
  context: EntryContext,
): Promise<IncludeSource[]> {
  const { location } = context;
  const path = expand(written, context).replace(/^\/+/, '');
  if (!/\.ya?ml$/.test(path))
    throw new CiConfigError(
      'CI_INCLUDE_NOT_FOUND',
      `included file \`${written}\` does not have YAML extension`,
      {
        location,
      },
    );
  const paths = path.includes('*') ? await wildcardMatches(path, context.files) : [path];
  if (paths.length === 0)
    throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `include pattern ${written} matched no files`, {
      location,
    });
  return Promise.all(
    paths.map(async (file) => {
      const text = await context.files.read(file);
      if (text === undefined)
        throw new CiConfigError('CI_INCLUDE_NOT_FOUND', `included file ${file} not found`, { location });
      return { file, text, inputs };
    }),
  );
}

/** GitLab's wildcard: `**` matches anything, `*` anything but `/`; nothing else is special. */
export function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/\*\*|\*/g, (stars) => (stars === '**' ? '.*?' : '[^/]*?'));
  return new RegExp(`^${source}$`);
}

async function wildcardMatches(pattern: string, files: ProjectFiles): Promise<string[]> {
  const regex = wildcardRegExp(pattern);
  return (await files.list()).filter((file) => regex.test(file));
}

async function template(name: string, location: SourceLocation): Promise<IncludeSource> {
  const reason = UNRUNNABLE_TEMPLATES.find((entry) => entry.match.test(name))?.reason;
  if (reason)
    throw new CiConfigError(
      'CI_INCLUDE_UNSUPPORTED',
      `include:template ${name} cannot run in tart exec: ${reason}`,
      {
        location,
      },
    );
  const path = templateFile(name);
  const text = path === undefined ? undefined : await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined)
    throw new CiConfigError(
      'CI_INCLUDE_NOT_FOUND',
      `include:template ${name} is not one of the GitLab templates shipped with tart exec`,
      { location },
    );
  return { file: `template:${name}`, text, inputs: undefined };
}

// `<host>/<project path>/<component>@<version>`: only components of this project can be read
// locally, from templates/<component>.yml or templates/<component>/template.yml at this commit.
async function component(
  written: string,
  inputs: CiValue | undefined,
  context: EntryContext,
): Promise<IncludeSource> {
  const { location } = context;
  const address = expand(written, context);
  const match = /^([^/]+)\/(.+)\/([^/@]+)@(.+)$/.exec(address);
  if (!match)
    throw new CiConfigError(
      'CI_INCLUDE_UNSUPPORTED',
      `component ${written}: expected <host>/<project path>/<component name>@<version>`,
      { location },
    );
  const [, , project, name] = match as unknown as [string, string, string, string];
  const own = context.rules?.variables.get('CI_PROJECT_PATH');
  if (own !== undefined && project !== own)
    throw new CiConfigError(
      'CI_INCLUDE_UNSUPPORTED',
      `component ${address} is in project ${project}; tart exec reads only this project's components (${own})`,
      { location },
    );
  for (const file of [`templates/${name}.yml`, `templates/${name}/template.yml`]) {
    const text = await context.files.read(file);
    if (text !== undefined) return { file, text, inputs };
  }
  throw new CiConfigError(
    'CI_INCLUDE_NOT_FOUND',
    `component ${name} not found (looked for templates/${name}.yml and templates/${name}/template.yml)`,
    { location },
  );
}

function unsupported(kind: string, location: SourceLocation): never {
  throw new CiConfigError(
    'CI_INCLUDE_UNSUPPORTED',
    `include:${kind} needs a GitLab server; tart exec includes local files, GitLab templates and this project's components`,
    { location },
  );
}
