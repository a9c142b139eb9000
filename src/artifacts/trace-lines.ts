// The exact trace text gitlab-runner prints around caches and artifacts, so users and log
// parsers see what they know: stage-script notices (job-execution ref §2.2) and the helper
// binary's "runner text formatter" lines (§9.5).
import { ANSI } from '../model/ansi.js';

const { reset: RESET, boldGreen: BOLD_GREEN, yellow: YELLOW, boldRed: BOLD_RED } = ANSI;
const MESSAGE_WIDTH = 50;

/** Green script notice, e.g. "Checking cache for KEY...". */
export function notice(text: string): string {
  return `${BOLD_GREEN}${text}${RESET}`;
}

/** Yellow script warning without a prefix, e.g. "Failed to extract cache". */
export function scriptWarning(text: string): string {
  return `${YELLOW}${text}${RESET}`;
}

/** A runner-logger warning (ref §9.1): yellow `WARNING: ` prefix. */
export function runnerWarning(text: string): string {
  return `${YELLOW}WARNING: ${text}${RESET}`;
}

export type HelperLevel = 'info' | 'warning' | 'error' | 'fatal';

/**
 * A helper-binary line: coloured prefix, message padded to 50 − prefix length, RESET, a space,
 * then ` key=value` per field in key order.
 */
export function helperLine(
  level: HelperLevel,
  message: string,
  fields: Record<string, string | number> = {},
): string {
  const { colour, prefix } = LEVELS[level];
  const padded = message.padEnd(MESSAGE_WIDTH - prefix.length);
  const renderedFields = Object.keys(fields)
    .sort()
    .map((key) => ` ${colour}${key}${RESET}=${String(fields[key])}`)
    .join('');
  return `${colour}${prefix}${padded}${RESET} ${renderedFields}`;
}

const LEVELS: Record<HelperLevel, { colour: string; prefix: string }> = {
  info: { colour: '', prefix: '' },
  warning: { colour: YELLOW, prefix: 'WARNING: ' },
  error: { colour: BOLD_RED, prefix: 'ERROR: ' },
  fatal: { colour: BOLD_RED, prefix: 'FATAL: ' },
};
