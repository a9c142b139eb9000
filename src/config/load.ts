// config.toml → TartConfig: parse with smol-toml, validate every key against the schema, and
// report problems as `file:line: key: message` UserErrors with stable codes.
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { UserError } from '../errors.js';
import { decodeTable, type FieldContext, type HostDefaults, type Issue } from './fields.js';
import { ignoredKeysWarning } from './foreign-keys.js';
import { lineOf, locateKeys } from './locate-keys.js';
import { hostDefaults } from './paths.js';
import { configShape } from './schema.js';
import type { TartConfig } from './types.js';

export const CONFIG_ERROR_CODES = {
  notFound: 'CONFIG_NOT_FOUND',
  unreadable: 'CONFIG_UNREADABLE',
  syntax: 'CONFIG_SYNTAX',
  unknownKey: 'CONFIG_UNKNOWN_KEY',
  invalidValue: 'CONFIG_INVALID_VALUE',
  missingKey: 'CONFIG_MISSING_KEY',
} as const;

/** A loaded config and the warnings to log once: keys Tart ignores, unsupported settings. */
export interface LoadedConfig {
  config: TartConfig;
  warnings: string[];
}

/** Reads and validates a config file. Throws UserError CONFIG_NOT_FOUND when it does not exist. */
export async function loadConfig(path: string, defaults: HostDefaults = hostDefaults()): Promise<TartConfig> {
  return (await loadConfigWithWarnings(path, defaults)).config;
}

/** loadConfig, with the warnings `tart run` logs at start and on reload. */
export async function loadConfigWithWarnings(
  path: string,
  defaults: HostDefaults = hostDefaults(),
): Promise<LoadedConfig> {
  const text = await readConfigText(path);
  return parseConfigWithWarnings(text, path, defaults);
}

/** Like loadConfig, but a missing file is an empty config (for `register` on a fresh host). */
export async function loadConfigOrEmpty(
  path: string,
  defaults: HostDefaults = hostDefaults(),
): Promise<TartConfig> {
  try {
    return await loadConfig(path, defaults);
  } catch (error) {
    if (error instanceof UserError && error.code === CONFIG_ERROR_CODES.notFound) {
      return parseConfig('', path, defaults);
    }
    throw error;
  }
}

/** loadConfigWithWarnings, but a missing file is an empty config (`tart run` on a fresh host waits for runners). */
export async function loadConfigOrEmptyWithWarnings(
  path: string,
  defaults: HostDefaults = hostDefaults(),
): Promise<LoadedConfig> {
  try {
    return await loadConfigWithWarnings(path, defaults);
  } catch (error) {
    if (error instanceof UserError && error.code === CONFIG_ERROR_CODES.notFound) {
      return parseConfigWithWarnings('', path, defaults);
    }
    throw error;
  }
}

/** Validates config text; `file` only names the source in errors. */
export function parseConfig(text: string, file: string, defaults: HostDefaults = hostDefaults()): TartConfig {
  return parseConfigWithWarnings(text, file, defaults).config;
}

/** parseConfig, with the warnings (one line naming every ignored key, then other notices). */
export function parseConfigWithWarnings(
  text: string,
  file: string,
  defaults: HostDefaults = hostDefaults(),
): LoadedConfig {
  const raw = parseToml(text, file);
  const issues: Issue[] = [];
  const context: FieldContext = { issues, defaults };
  const config = decodeTable(configShape, raw, '', context);
  if (issues.length > 0) throw issuesError(issues, text, file);
  const ignored = ignoredKeysWarning(context.ignored ?? []);
  return { config, warnings: [...(ignored ? [`${file}: ${ignored}`] : []), ...(context.notices ?? [])] };
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(CONFIG_ERROR_CODES.notFound, `${path}: config file not found`, {
        cause: error,
        details: { file: path },
      });
    }
    throw new UserError(
      CONFIG_ERROR_CODES.unreadable,
      `${path}: cannot read config file (${code ?? 'error'})`,
      {
        cause: error,
        details: { file: path },
      },
    );
  }
}

// smol-toml's message carries a code block of nearby lines; only the reason is kept, since the
// nearby lines could hold a runner token.
function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
    throw new UserError(CONFIG_ERROR_CODES.syntax, `${file}:${error.line}:${error.column}: ${reason}`, {
      details: { file, line: error.line, column: error.column },
    });
  }
}

// All issues, in file order, in one error; the code is the first issue's.
function issuesError(issues: Issue[], text: string, file: string): UserError {
  const lines = locateKeys(text);
  const located = issues
    .map((issue) => ({ ...issue, line: lineOf(lines, issue.path) ?? 1 }))
    .sort((a, b) => a.line - b.line);
  const message = located.map((issue) => `${file}:${issue.line}: ${issue.path}: ${issue.message}`).join('\n');
  const first = located[0] as (typeof located)[number];
  return new UserError(first.code, message, { details: { file, line: first.line, issues: located } });
}
