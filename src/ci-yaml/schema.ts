// GitLab's JSON schema for .gitlab-ci.yml (gitlab-schema.json, MIT, copied from GitLab) as a hint.
// The schema is the editor's, stricter than GitLab's server (tags: [], null variables, RE2 coverage
// regexes, nested script lists, wildcard includes all fail it but run on GitLab), so only what
// GitLab's own entries also reject stops the run: unknown keys and a value outside a fixed set
// (unless it is a $VARIABLE). Every other complaint is returned as a warning with file:line.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import schema from './gitlab-ci-schema.json' with { type: 'json' };
import { CiConfigError } from './errors.js';
import { isPlainMap, pathKey, ReferenceTag, type CiMap, type CiValue, type LoadedFile } from './load.js';

let validator: ValidateFunction | undefined;

/** Throws CI_SCHEMA for an unknown key or value; returns the schema's other complaints as warnings. */
export function validateAgainstSchema(file: LoadedFile): string[] {
  validator ??= compile();
  const referencePaths: string[] = [];
  if (validator(toSchemaShape(file.content, '', referencePaths))) return [];
  // A !reference may sit where the schema expects another type (e.g. a variable value); GitLab
  // resolves it first, so errors at or inside a reference are not the user's mistake.
  const errors = (validator.errors ?? []).filter(
    (error) =>
      !referencePaths.some(
        (path) => error.instancePath === path || error.instancePath.startsWith(`${path}/`),
      ),
  );
  const fatal = mostSpecific(errors.filter(isFatal));
  if (fatal) throw schemaError(file, fatal);
  const hint = mostSpecific(errors);
  return hint ? [schemaError(file, hint).message] : [];
}

// What GitLab's entry classes reject too: keys they do not know, values outside their fixed sets.
function isFatal(error: ErrorObject): boolean {
  if (error.keyword === 'additionalProperties') return true;
  return error.keyword === 'enum' && !(typeof error.data === 'string' && error.data.includes('$'));
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

function compile(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, verbose: true });
  // ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    ajv: Ajv,
  ) => void;
  addFormats(ajv);
  return ajv.compile(schema);
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
