// A small structured logger: levels, gitlab-runner's runner/text/json formats on stderr, child
// loggers that add fields (`job`, `runner`), and secret masking applied to every line.
import type { LogFormat, LogLevel } from '../config/types.js';
import { formatRecord, type LogValue } from './format.js';
import { SecretRegistry } from './redact.js';

export type LogFields = Record<string, unknown>;

/** Anything with a `write` method: process.stderr, a PassThrough in tests. */
export interface LogStream {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  stream?: LogStream;
  now?: () => Date;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4, panic: 5 };

// Shared by a root logger and all its children: settings can change at runtime (config reload).
interface LoggerCore {
  level: LogLevel;
  format: LogFormat;
  stream: LogStream;
  now: () => Date;
  secrets: SecretRegistry;
}

export class Logger {
  /** Use createLogger; children come from child(). */
  constructor(
    private readonly core: LoggerCore,
    private readonly fields: LogFields = {},
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
  /** Logs at fatal level; exiting is the caller's decision. */
  fatal(message: string, fields?: LogFields): void {
    this.log('fatal', message, fields);
  }

  /** A logger whose lines also carry `fields`, e.g. `{ job: 123, runner: 'abc' }`. */
  child(fields: LogFields): Logger {
    return new Logger(this.core, { ...this.fields, ...fields });
  }

  /** Masks `value` in every line any logger of this family writes from now on. */
  addSecret(value: string): void {
    this.core.secrets.add(value);
  }

  /** Changes level/format for this logger and all its relatives (e.g. after a config reload). */
  configure(settings: { level?: LogLevel; format?: LogFormat }): void {
    if (settings.level !== undefined) this.core.level = settings.level;
    if (settings.format !== undefined) this.core.format = settings.format;
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= LEVEL_ORDER[this.core.level];
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const { secrets } = this.core;
    const record = {
      time: this.core.now(),
      level,
      message: secrets.redact(message),
      fields: normalizeFields({ ...this.fields, ...fields }, secrets),
    };
    // A second pass over the whole line catches secrets split across quoting or escaping.
    this.core.stream.write(`${secrets.redact(formatRecord(record, this.core.format))}\n`);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return new Logger({
    level: options.level ?? 'info',
    format: options.format ?? 'runner',
    stream: options.stream ?? process.stderr,
    now: options.now ?? (() => new Date()),
    secrets: new SecretRegistry(),
  });
}

/** A logger that writes nothing, for code paths and tests that do not care. */
export function silentLogger(): Logger {
  return createLogger({ level: 'panic', stream: { write: () => true } });
}

// Field values as printable scalars: errors by message, objects as JSON, every string masked.
function normalizeFields(fields: LogFields, secrets: SecretRegistry): Record<string, LogValue> {
  const normalized: Record<string, LogValue> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const scalar = toScalar(value);
    normalized[key] = typeof scalar === 'string' ? secrets.redact(scalar) : scalar;
  }
  return normalized;
}

function toScalar(value: unknown): LogValue {
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'string'
  ) {
    return value;
  }
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
