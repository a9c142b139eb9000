// The one ANSI palette: every colour and control code Tart writes. `ANSI` holds gitlab-runner's
// trace codes (its `0;m` reset and `0K` clear-line); `TERMINAL` the plain SGR codes `tart exec`
// colours a terminal with.

/** gitlab-runner's trace colours (helpers/trace), byte for byte. */
export const ANSI = {
  boldRed: '\x1b[31;1m',
  boldGreen: '\x1b[32;1m',
  boldYellow: '\x1b[33;1m',
  boldCyan: '\x1b[36;1m',
  yellow: '\x1b[0;33m',
  reset: '\x1b[0;m',
  clear: '\x1b[0K',
} as const;

/** Colours for `tart exec`'s own terminal output. */
export const TERMINAL = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
  grey: '\x1b[90m',
  brightCyan: '\x1b[96m',
  reset: '\x1b[0m',
} as const;

/** Removes ANSI colour and control sequences (plain-text output, tests). */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}
