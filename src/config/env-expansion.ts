// `$VAR` / `${VAR}` in `url`, `token` and `clone_url`, expanded from the process environment when
// the file is read, as gitlab-runner does (Go's os.ExpandEnv: unknown names become ""). The text
// as written is remembered per runner, so saving the file keeps `$VAR` instead of the secret.
import type { Field } from './fields.js';

/** Go's os.ExpandEnv for `$NAME` and `${NAME}`. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced?: string, bare?: string) => env[braced ?? bare ?? ''] ?? '',
  );
}

/** `field`, with `$VAR` expanded before it is decoded; the raw text is kept in the context's templates. */
export function expanded<T>(field: Field<T>): Field<T> {
  return {
    ...field,
    decode(raw, path, context) {
      if (typeof raw !== 'string' || !raw.includes('$')) return field.decode(raw, path, context);
      (context.templates ??= new Map()).set(path, raw);
      return field.decode(expandEnv(raw, context.defaults.env ?? {}), path, context);
    },
  };
}

/** A value as written (`raw`) and as expanded when loaded. */
export interface Template {
  raw: string;
  expanded: string;
}

const templatesByTable = new WeakMap<object, Record<string, Template>>();

/** Remembers the written text of `table`'s expanded keys (called once the table is decoded). */
export function rememberTemplates(
  table: object,
  values: Record<string, unknown>,
  templates: ReadonlyMap<string, string> | undefined,
  path: string,
): void {
  if (templates === undefined) return;
  const found: Record<string, Template> = {};
  for (const [key, value] of Object.entries(values)) {
    const raw = templates.get(`${path}.${key}`);
    if (raw !== undefined && typeof value === 'string') found[key] = { raw, expanded: value };
  }
  if (Object.keys(found).length > 0) templatesByTable.set(table, found);
}

/** The written text for each key of `table` whose value is still the one loaded from it. */
export function unexpandedKeys(table: object, encoded: Record<string, unknown>): Record<string, string> {
  const templates = templatesByTable.get(table) ?? {};
  const keep: Record<string, string> = {};
  for (const [key, template] of Object.entries(templates)) {
    if (encoded[key] === template.expanded) keep[key] = template.raw;
  }
  return keep;
}
