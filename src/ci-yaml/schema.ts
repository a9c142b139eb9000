// GitLab's JSON schema for .gitlab-ci.yml (gitlab-schema.json, MIT, copied from GitLab) as a hint.
// The schema is the editor's, stricter than GitLab's server (tags: [], null variables, RE2 coverage
// regexes, nested script lists, wildcard includes all fail it but run on GitLab), so only what
// GitLab's own entries also reject stops the run: unknown keys and a value outside a fixed set
// (unless it is a $VARIABLE). Every other complaint is returned as a warning with file:line.
// The validator is compiled ahead of time (scripts/build-ci-schema-validator.mjs) into
// generated/ci-schema-validator.ts; compiling the schema at start-up cost 0.7-1.4 s per run.
import type { ErrorObject } from 'ajv';
import { CiConfigError } from './errors.js';
import compiledValidator from './generated/ci-schema-validator.js';
import { isJobKey } from './keywords.js';
import { isPlainMap, pathKey, ReferenceTag, type CiMap, type CiValue, type LoadedFile } from './load.js';

interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const validator = compiledValidator as unknown as Validator;

/** Throws CI_SCHEMA for an unknown key or value; returns the schema's other complaints as warnings. */
export function validateAgainstSchema(file: LoadedFile): string[] {
  const referencePaths: string[] = [];
  const shaped = withTypeAsStage(toSchemaShape(file.content, '', referencePaths));
  if (validator(shaped)) return [];
  // A !reference may sit where the schema expects another type (e.g. a variable value); GitLab
  // resolves it first, so errors at or inside a reference are not the user's mistake.
  const errors = (validator.errors ?? []).filter(
    (error) =>
      !referencePaths.some(
        (path) => error.instancePath === path || error.instancePath.startsWith(`${path}/`),
      ),
  );
  const fatal = mostSpecific(errors.filter((error) => isFatal(error, valueAt(shaped, error.instancePath))));
  if (fatal) throw schemaError(file, fatal);
  const hint = mostSpecific(errors);
  return hint ? [schemaError(file, hint).message] : [];
}

// What GitLab's entry classes reject too: keys they do not know, values outside their fixed sets.
function isFatal(error: ErrorObject, data: unknown): boolean {
  if (error.keyword === 'additionalProperties') return true;
  return error.keyword === 'enum' && !(typeof data === 'string' && data.includes('$'));
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const segment of pointer.split('/').slice(1).map(decodePointer))
    value =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}

function schemaError(file: LoadedFile, error: ErrorObject): CiConfigError {
  const path = error.instancePath.split('/').slice(1).map(decodePointer);
  const job =
    path.length > 0 && !['variables', 'default', 'stages', 'include', 'workflow'].includes(path[0] as string)
      ? (path[0] as string)
      : undefined;
  return new CiConfigError('CI_SCHEMA', `${path.join('.') || '(top level)'} ${describe(error)}`, {
    location: locate(file, path),
    job,
  });
}

// The schema describes `!reference` as a list of strings; `references` collects their JSON pointers.
function toSchemaShape(value: CiValue, pointer: string, references: string[]): CiValue {
  if (value instanceof ReferenceTag) {
    references.push(pointer);
    return value.path;
  }
  if (Array.isArray(value))
    return value.map((item, index) => toSchemaShape(item, `${pointer}/${index}`, references));
  if (isPlainMap(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        toSchemaShape(item, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, references),
      ]),
    ) as CiMap;
  }
  return value;
}

// A job's `type:` is GitLab's deprecated name for `stage:` (Entry::Job still takes it; the stage wins
// when both are set). The editor schema no longer lists it, so it is checked as the stage it means.
function withTypeAsStage(content: CiValue): CiValue {
  if (!isPlainMap(content)) return content;
  return Object.fromEntries(
    Object.entries(content).map(([key, job]) => {
      if (!isJobKey(key) || !isPlainMap(job) || !('type' in job)) return [key, job];
      const { type, ...rest } = job;
      return [key, 'stage' in rest ? rest : { ...rest, stage: type }];
    }),
  ) as CiMap;
}

// anyOf/oneOf report every branch; the deepest concrete error is the one a person can act on.
function mostSpecific(errors: ErrorObject[]): ErrorObject | undefined {
  const concrete = errors.filter(
    (error) => !['anyOf', 'oneOf', 'allOf', 'if', 'not'].includes(error.keyword),
  );
  const pool = concrete.length > 0 ? concrete : errors;
  const depth = (error: ErrorObject) =>
    error.instancePath.split('/').length + (error.keyword === 'additionalProperties' ? 1 : 0);
  return [...pool].sort((a, b) => depth(b) - depth(a))[0];
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties')
    return `has unknown key "${String(params.additionalProperty)}"`;
  if (error.keyword === 'enum')
    return `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`;
  return error.message ?? 'is invalid';
}

function decodePointer(segment: string): string | number {
  const text = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(text) ? Number(text) : text;
}

// The nearest recorded ancestor of the failing path (an unknown key reports its parent).
function locate(file: LoadedFile, path: (string | number)[]): { file: string; line: number } {
  for (let length = path.length; length > 0; length--) {
    const found = file.sources.get(pathKey(path.slice(0, length)));
    if (found) return found;
  }
  return { file: file.file, line: 1 };
}
