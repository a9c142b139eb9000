// Value checks for config.toml keys: each turns a raw TOML value into a typed value or says
// what it expected. Pure; the structure (tables, defaults, unknown keys) lives in fields.ts.
import { isIP, isIPv4 } from 'node:net';
import { parseGoDuration } from '../model/go-duration.js';

export type Decoded<T> =
  | { ok: true; value: T }
  /** `suffix` points inside the value (e.g. `[2]` for an array item); `got` replaces the raw value shown. */
  | { ok: false; expected: string; suffix?: string; got?: unknown };

export type Decoder<T> = (raw: unknown) => Decoded<T>;

const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
const fail = (expected: string): Decoded<never> => ({ ok: false, expected });

/** An integer >= min (TOML integers arrive as JS numbers). */
export function integer(min: number): Decoder<number> {
  const expected =
    min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  return (raw) => (Number.isSafeInteger(raw) && (raw as number) >= min ? ok(raw as number) : fail(expected));
}

/** Any integer, negative ones included (wait_for_services_timeout = -1). */
export const anyInteger: Decoder<number> = (raw) => (Number.isSafeInteger(raw) ? ok(raw as number) : fail('an integer'));

export function string(options: { nonEmpty?: boolean } = {}): Decoder<string> {
  return (raw) => {
    if (typeof raw !== 'string') return fail(options.nonEmpty ? 'a non-empty string' : 'a string');
    if (options.nonEmpty && raw.trim() === '') return fail('a non-empty string');
    return ok(raw);
  };
}

export const boolean: Decoder<boolean> = (raw) =>
  typeof raw === 'boolean' ? ok(raw) : fail('true or false');

export function oneOf<const T extends string>(values: readonly T[]): Decoder<T> {
  const expected = `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
  return (raw) => ((values as readonly unknown[]).includes(raw) ? ok(raw as T) : fail(expected));
}

/** An http or https URL, as gitlab-runner accepts for `url` and `clone_url`. */
export const httpUrl: Decoder<string> = (raw) => {
  if (typeof raw !== 'string') return fail('an http(s) URL');
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? ok(raw) : fail('an http(s) URL');
  } catch {
    return fail('an http(s) URL');
  }
};

// gitlab-runner's "zero time" marks a token without expiry.
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

/** A TOML offset date-time (or an RFC 3339 string); the zero time 0001-01-01T00:00:00Z reads as absent. */
export const dateTime: Decoder<Date | undefined> = (raw) => {
  const expected = 'a date-time like 2025-06-01T08:00:00Z';
  let date: Date | undefined;
  if (raw instanceof Date) date = new Date(raw.getTime());
  else if (
    typeof raw === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(raw)
  ) {
    date = new Date(raw);
  }
  if (date === undefined || Number.isNaN(date.getTime())) return fail(expected);
  return ok(date.getTime() === ZERO_TIME ? undefined : date);
};

/** An array of strings, each checked by `item`. */
export function list(item: Decoder<string>): Decoder<string[]> {
  return (raw) => {
    if (!Array.isArray(raw)) return fail('an array of strings');
    for (const [index, value] of raw.entries()) {
      const decoded = item(value);
      if (!decoded.ok) return { ok: false, expected: decoded.expected, suffix: `[${index}]`, got: value };
    }
    return ok([...(raw as string[])]);
  };
}

/** One string or an array of them (gitlab-runner's pull_policy), always decoded as an array. */
export function stringOrList<T extends string>(item: Decoder<T>): Decoder<T[]> {
  const many = list(item);
  return (raw) => (typeof raw === 'string' ? many([raw]) : many(raw)) as Decoded<T[]>;
}

/** `KEY=value`, as in gitlab-runner's `environment`. */
export const environmentEntry: Decoder<string> = (raw) =>
  typeof raw === 'string' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(raw) ? ok(raw) : fail('a "KEY=value" string');

/** An IP network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8. */
export const cidr: Decoder<string> = (raw) => {
  const expected = 'a CIDR like 10.0.0.0/8';
  if (typeof raw !== 'string') return fail(expected);
  const match = /^([^/]+)\/(\d{1,3})$/.exec(raw);
  if (!match) return fail(expected);
  const family = isIP(match[1] ?? '');
  const bits = Number(match[2]);
  return family !== 0 && bits <= (family === 4 ? 32 : 128) ? ok(raw) : fail(expected);
};

/** An IPv4 CIDR (guest addresses are IPv4). */
export const ipv4Cidr: Decoder<string> = (raw) => {
  const decoded = cidr(raw);
  return decoded.ok && isIPv4(decoded.value.split('/')[0] ?? '')
    ? decoded
    : fail('an IPv4 CIDR like 10.0.0.0/16');
};

/** `ip`, `ip:port` or `[ipv6]:port`. */
export const hostAndPort: Decoder<string> = (raw) => {
  const expected = 'an IP address with an optional port, like 10.1.2.3:443';
  if (typeof raw !== 'string') return fail(expected);
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw) ?? /^([^:]+)(?::(\d+))?$/.exec(raw);
  const host = match ? match[1] : raw;
  const port = match ? match[2] : undefined;
  if (isIP(host ?? '') === 0) return fail(expected);
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return fail(expected);
  return ok(raw);
};

/** `host:port` or `:port` for a listening socket. */
export const listenAddress: Decoder<string> = (raw) => {
  const expected = 'a "host:port" address';
  if (typeof raw !== 'string') return fail(expected);
  const match = /^(.*):(\d+)$/.exec(raw);
  const port = Number(match?.[2]);
  return match && port >= 0 && port <= 65535 ? ok(raw) : fail(expected);
};

/** A string where "" means "not set", as gitlab-runner writes `builds_dir = ""` and `shell = ""`. */
export function emptyMeansUnset(inner: Decoder<string>): Decoder<string | undefined> {
  return (raw) => (raw === '' ? ok(undefined) : inner(raw));
}

/** Go duration text ("15m0s", "1h", "90s") → milliseconds, as gitlab-runner reads durations. */
export const goDuration: Decoder<number> = (raw) => {
  const expected = 'a duration like "15m" or "1h30m"';
  if (typeof raw !== 'string') return fail(expected);
  const ms = parseGoDuration(raw);
  return ms === undefined || ms < 0 ? fail(expected) : ok(ms);
};

/** A log level in Tart's or logrus's spelling (`warning`, `trace`), as gitlab-runner accepts. */
export function logLevel<const T extends string>(
  levels: readonly T[],
  aliases: Record<string, T>,
): Decoder<T> {
  const names = [...levels, ...Object.keys(aliases)];
  const expected = `one of ${names.map((value) => JSON.stringify(value)).join(', ')}`;
  return (raw) => {
    if (typeof raw !== 'string') return fail(expected);
    const lower = raw.toLowerCase();
    if ((levels as readonly string[]).includes(lower)) return ok(lower as T);
    const alias = aliases[lower];
    return alias === undefined ? fail(expected) : ok(alias);
  };
}

/** `[runners.feature_flags]`: `FF_NAME = true|false`. */
export const featureFlagTable: Decoder<Record<string, boolean>> = (raw) => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Date)
    return fail('a table of FF_NAME = true|false');
  const flags: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!/^FF_[A-Z0-9_]+$/.test(name))
      return { ok: false, expected: 'a feature flag name like FF_TIMESTAMPS', suffix: `.${name}`, got: name };
    if (typeof value !== 'boolean')
      return { ok: false, expected: 'true or false', suffix: `.${name}`, got: value };
    flags[name] = value;
  }
  return ok(flags);
};
