// The structure of config.toml as data: each field knows its TOML key, how to decode it (with
// defaults) and how to encode it back. schema.ts composes these; load and save both walk them,
// so decoding and writing can never disagree about a key name.
import { isDeepStrictEqual } from 'node:util';
import type { Decoder } from './decoders.js';

export type IssueCode = 'CONFIG_UNKNOWN_KEY' | 'CONFIG_INVALID_VALUE' | 'CONFIG_MISSING_KEY';

/** One problem found in the file; `path` is dotted with array indexes, e.g. `runners[0].vm.memory_mb`. */
export interface Issue {
  code: IssueCode;
  path: string;
  message: string;
}

/** Values that depend on the host, resolved once per load/save. */
export interface HostDefaults {
  imageDir: string;
  hostname: string;
  /** Where `$VAR` in `url`, `token` and `clone_url` is looked up; absent: no variables. */
  env?: NodeJS.ProcessEnv;
}

export interface FieldContext {
  issues: Issue[];
  defaults: HostDefaults;
  /** Keys gitlab-runner knows that were written with a value Tart does not use, e.g. `runners[0].docker.image`. */
  ignored?: { path: string; whole: boolean }[];
  /** Raw text of values that went through `$VAR` expansion, by path (so saving keeps the `$VAR`). */
  templates?: Map<string, string>;
  /** Other load-time warnings, e.g. a cache type Tart does not support yet. */
  notices?: string[];
}

/** An encoded TOML value: scalars, arrays, plain objects (tables) and arrays of them. */
export type TomlOut = string | number | boolean | Date | TomlOut[] | { [key: string]: TomlOut };

export interface Field<T> {
  readonly key: string;
  /** A field made of several keys of its table: decode gets those present as one object (or
   * undefined), encode returns them as one object spread into the table. */
  readonly keys?: readonly string[];
  /** The keys of a sub-table or array of tables (for documentation checks). */
  readonly children?: Record<string, Field<unknown>>;
  /** `raw` is undefined when the key is absent. */
  decode(raw: unknown, path: string, context: FieldContext): T;
  /** undefined = leave the key out of the file. */
  encode(value: T, defaults: HostDefaults): TomlOut | undefined;
}

export type Shape<T> = { [K in keyof T]-?: Field<T[K]> };

/** A key that must be present. */
export function required<T>(key: string, decoder: Decoder<T>, options: { secret?: boolean } = {}): Field<T> {
  return {
    key,
    decode(raw, path, context) {
      if (raw === undefined) {
        context.issues.push({ code: 'CONFIG_MISSING_KEY', path, message: 'required key is missing' });
        return undefined as T;
      }
      return decodeValue(decoder, raw, path, context, options.secret);
    },
    encode: (value) => value as TomlOut,
  };
}

/** A key that may be absent (undefined in the typed config). */
export function optional<T>(
  key: string,
  decoder: Decoder<T | undefined>,
  options: { secret?: boolean } = {},
): Field<T | undefined> {
  return {
    key,
    decode: (raw, path, context) =>
      raw === undefined ? undefined : decodeValue(decoder, raw, path, context, options.secret),
    encode: (value) => value as TomlOut | undefined,
  };
}

/** A key with a default; written back only when it differs from the default (or `alwaysWrite`). */
export function withDefault<T>(
  key: string,
  decoder: Decoder<T>,
  fallback: T | ((defaults: HostDefaults) => T),
  options: { alwaysWrite?: boolean } = {},
): Field<T> {
  // A copy each time, so no two configs share (and can mutate) one default array.
  const defaultFor = (defaults: HostDefaults): T =>
    typeof fallback === 'function'
      ? (fallback as (defaults: HostDefaults) => T)(defaults)
      : structuredClone(fallback);
  return {
    key,
    decode: (raw, path, context) =>
      raw === undefined ? defaultFor(context.defaults) : decodeValue(decoder, raw, path, context, false),
    encode: (value, defaults) =>
      options.alwaysWrite || !isDeepStrictEqual(value, defaultFor(defaults)) ? (value as TomlOut) : undefined,
  };
}

/** A sub-table such as `[runners.vm]`; absent = all defaults. Omitted on write when nothing differs. */
export function table<T>(key: string, shape: Shape<T>): Field<T> {
  return {
    key,
    children: shape as Record<string, Field<unknown>>,
    decode: (raw, path, context) => decodeTable(shape, raw ?? {}, path, context),
    encode(value, defaults) {
      const encoded = encodeTable(shape, value, defaults);
      return Object.keys(encoded).length > 0 ? encoded : undefined;
    },
  };
}

/** A sub-table that may be absent (undefined), e.g. `[runners.cache]`; written back when present. */
export function optionalTable<T>(key: string, shape: Shape<T>): Field<T | undefined> {
  return {
    key,
    children: shape as Record<string, Field<unknown>>,
    decode: (raw, path, context) => (raw === undefined ? undefined : decodeTable(shape, raw, path, context)),
    encode: (value, defaults) => (value === undefined ? undefined : encodeTable(shape, value, defaults)),
  };
}

/** Cross-key rules of one table, run after its keys decoded; may adjust defaults that depend on siblings. */
export type TableCheck<T> = (
  value: T,
  raw: Record<string, unknown>,
  path: string,
  context: FieldContext,
) => void;

/** An array of tables such as `[[runners]]`; absent = empty. */
export function tableArray<T>(key: string, shape: Shape<T>, check?: TableCheck<T>): Field<T[]> {
  return {
    key,
    children: shape as Record<string, Field<unknown>>,
    decode(raw, path, context) {
      if (raw === undefined) return [];
      if (!Array.isArray(raw) || !raw.every(isTable)) {
        context.issues.push(invalid(path, `expected an array of tables ([[${key}]])`, raw));
        return [];
      }
      return raw.map((item, index) => {
        const value = decodeTable(shape, item, `${path}[${index}]`, context);
        check?.(value, item, `${path}[${index}]`, context);
        return value;
      });
    },
    encode: (value, defaults) =>
      value.length > 0 ? value.map((item) => encodeTable(shape, item, defaults)) : undefined,
  };
}

/** Decodes a table: unknown keys are issues, every field of the shape is decoded. */
export function decodeTable<T>(shape: Shape<T>, raw: unknown, path: string, context: FieldContext): T {
  const fields = Object.entries(shape) as [keyof T & string, Field<unknown>][];
  if (!isTable(raw)) {
    context.issues.push(invalid(path, 'expected a table', raw));
    raw = {};
  }
  const source = raw as Record<string, unknown>;
  const known = fields.flatMap(([, field]) => field.keys ?? [field.key]);
  for (const key of Object.keys(source)) {
    if (!known.includes(key)) context.issues.push(unknownKey(joinPath(path, key), key, known));
  }
  const result = {} as Record<string, unknown>;
  for (const [property, field] of fields) {
    const value =
      field.keys === undefined
        ? field.decode(source[field.key], joinPath(path, field.key), context)
        : field.decode(pickKeys(source, field.keys), path, context);
    if (value !== undefined) result[property] = value;
  }
  return result as T;
}

/** Encodes a typed table back to TOML keys, in shape order. */
export function encodeTable<T>(
  shape: Shape<T>,
  value: T,
  defaults: HostDefaults,
): { [key: string]: TomlOut } {
  const encoded: { [key: string]: TomlOut } = {};
  for (const [property, field] of Object.entries(shape) as [keyof T & string, Field<unknown>][]) {
    const out = field.encode(value[property], defaults);
    if (out === undefined) continue;
    if (field.keys === undefined) encoded[field.key] = out;
    else Object.assign(encoded, out);
  }
  return encoded;
}

// The keys of `source` that `keys` names, or undefined when none is there.
function pickKeys(
  source: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> | undefined {
  const picked = Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]]));
  return Object.keys(picked).length > 0 ? picked : undefined;
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Shows a bad value in an error; secrets are never shown. */
export function describeValue(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
  if (raw instanceof Date) return raw.toISOString();
  if (Array.isArray(raw)) return 'an array';
  if (isTable(raw)) return 'a table';
  return String(raw);
}

export function isTable(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Date);
}

// Runs a decoder and turns its failure into an issue naming the key and the bad value.
function decodeValue<T>(
  decoder: Decoder<T>,
  raw: unknown,
  path: string,
  context: FieldContext,
  secret: boolean | undefined,
): T {
  const decoded = decoder(raw);
  if (decoded.ok) return decoded.value;
  const shown = decoded.suffix === undefined ? raw : decoded.got;
  const target = path + (decoded.suffix ?? '');
  context.issues.push(
    secret
      ? { code: 'CONFIG_INVALID_VALUE', path: target, message: `expected ${decoded.expected}` }
      : invalid(target, `expected ${decoded.expected}`, shown),
  );
  return undefined as T;
}

function invalid(path: string, expected: string, raw: unknown): Issue {
  return { code: 'CONFIG_INVALID_VALUE', path, message: `${expected}, got ${describeValue(raw)}` };
}

export function unknownKey(path: string, key: string, known: string[]): Issue {
  const suggestion = known.find((candidate) => editDistance(candidate, key) <= 2);
  const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
  return { code: 'CONFIG_UNKNOWN_KEY', path, message: `unknown key${hint}` };
}

// Levenshtein distance, for "did you mean" hints on misspelt keys.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
