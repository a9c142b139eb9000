// `variables:` in its three forms: `KEY: value`, `KEY: { value, description, options, expand }`.
import { CiConfigError, type SourceLocation } from './errors.js';
import { isPlainMap, type CiValue } from './load.js';
import type { CiVariable } from './types.js';

export function normaliseVariables(
  value: CiValue | undefined,
  where: { location?: SourceLocation; job?: string },
): CiVariable[] {
  if (value === undefined || value === null) return [];
  if (!isPlainMap(value))
    throw new CiConfigError('CI_INVALID_VALUE', 'variables must be a mapping of names to values', where);
  return Object.entries(value).map(([key, definition]) => {
    if (isPlainMap(definition)) {
      const raw = definition.expand === false;
      return { key, value: scalarText(definition.value ?? '', key, where), ...(raw ? { raw } : {}) };
    }
    return { key, value: scalarText(definition, key, where) };
  });
}

function scalarText(value: CiValue, key: string, where: { location?: SourceLocation; job?: string }): string {
  if (value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new CiConfigError('CI_INVALID_VALUE', `variable ${key} must be a string, number or boolean`, where);
}

/**
 * Expands `$VAR` / `${VAR}` once against `lookup` (last definition wins), keeping unknown
 * references literally, as GitLab does before handing variables to the runner.
 */
export function expandKeepingUnknown(text: string, lookup: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, bare?: string) => {
      if (match === '$$') return match;
      const value = lookup.get((braced ?? bare) as string);
      return value ?? match;
    },
  );
}

/** Name → value, later entries winning; raw values are kept as written. */
export function variableMap(...lists: CiVariable[][]): Map<string, string> {
  const map = new Map<string, string>();
  for (const list of lists) for (const variable of list) map.set(variable.key, variable.value);
  return map;
}
