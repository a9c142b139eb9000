// Renders one log record as a line in gitlab-runner's three formats: `runner` (its human console
// format), `text` (logrus key=value) and `json` (logrus JSON). Pure functions.
import type { LogFormat, LogLevel } from '../config/types.js';

export interface LogRecord {
  time: Date;
  level: LogLevel;
  message: string;
  /** Already normalized: strings, numbers, booleans, null. */
  fields: Record<string, LogValue>;
}

export type LogValue = string | number | boolean | null;

// gitlab-runner's console prefixes; info lines carry none.
const RUNNER_PREFIX: Record<LogLevel, string> = {
  debug: 'DEBUG: ',
  info: '',
  warn: 'WARNING: ',
  error: 'ERROR: ',
  fatal: 'FATAL: ',
  panic: 'PANIC: ',
};

// logrus pads the message so fields line up.
const RUNNER_MESSAGE_WIDTH = 44;

export function formatRecord(record: LogRecord, format: LogFormat): string {
  switch (format) {
    case 'runner':
      return formatRunner(record);
    case 'text':
      return formatText(record);
    case 'json':
      return formatJson(record);
  }
}

function formatRunner(record: LogRecord): string {
  const message = RUNNER_PREFIX[record.level] + record.message;
  const fields = formatFields(record.fields);
  return fields === '' ? message : `${message.padEnd(RUNNER_MESSAGE_WIDTH)} ${fields}`;
}

function formatText(record: LogRecord): string {
  const head = `time=${quote(record.time.toISOString())} level=${record.level} msg=${quote(record.message)}`;
  const fields = formatFields(record.fields);
  return fields === '' ? head : `${head} ${fields}`;
}

function formatJson(record: LogRecord): string {
  // Fields first, then the fixed keys win, as logrus does with clashing names.
  return JSON.stringify({
    ...record.fields,
    level: record.level,
    msg: record.message,
    time: record.time.toISOString(),
  });
}

// `key=value` pairs sorted by key, as logrus prints them.
function formatFields(fields: Record<string, LogValue>): string {
  return Object.keys(fields)
    .sort()
    .map((key) => `${key}=${quote(fields[key] ?? null)}`)
    .join(' ');
}

function quote(value: LogValue): string {
  const text = String(value);
  return /^[A-Za-z0-9_./:@+-]+$/.test(text) ? text : JSON.stringify(text);
}
