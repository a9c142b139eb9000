// Quoting for generated bash, byte for byte as gitlab-runner's `helpers.ShellEscape`
// (FF_POSIXLY_CORRECT_ESCAPES=false): bare when safe, else one `$'…'` ANSI-C string.

const LITERAL = /^[A-Za-z0-9,\-./@_]$/;
const QUOTE_ONLY = new Set(' `!"#$%&()*+:;<=>?[]^{|}~'.split('').map((char) => char.charCodeAt(0)));
const NAMED_ESCAPES = new Map<number, string>([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0b, '\\v'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
  [0x27, "\\'"],
  [0x5c, '\\\\'],
]);

// Per byte: kept as is (bare), kept but forcing `$'…'` (quote-only), or replaced by an escape.
const KEEP_BARE = 0;
const KEEP_QUOTED = 1;
const REPLACE = 2;
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, byte) =>
  byte < 0x80 && LITERAL.test(String.fromCharCode(byte))
    ? KEEP_BARE
    : QUOTE_ONLY.has(byte)
      ? KEEP_QUOTED
      : REPLACE,
);
const REPLACEMENT = Array.from({ length: 256 }, (_, byte) =>
  Buffer.from(NAMED_ESCAPES.get(byte) ?? `\\x${byte.toString(16).padStart(2, '0')}`, 'latin1'),
);
const LONGEST_REPLACEMENT = 4;

/**
 * Quotes `value` (as UTF-8 bytes) so bash reads it back unchanged and never expands it.
 * Linear in the value's size: the output is ASCII, written into one buffer.
 */
export function escapeShell(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length === 0) return "''";
  let quoted = false;
  let replaced = false;
  for (let index = 0; index < bytes.length; index += 1) {
    const kind = BYTE_CLASS[bytes[index] as number] as number;
    if (kind !== KEEP_BARE) quoted = true;
    if (kind === REPLACE) {
      replaced = true;
      break;
    }
  }
  if (!replaced) return quoted ? `$'${bytes.toString('latin1')}'` : bytes.toString('latin1');
  const out = Buffer.allocUnsafe(bytes.length * LONGEST_REPLACEMENT);
  let length = 0;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index] as number;
    if (BYTE_CLASS[byte] !== REPLACE) {
      out[length++] = byte;
      continue;
    }
    const replacement = REPLACEMENT[byte] as Buffer;
    replacement.copy(out, length);
    length += replacement.length;
  }
  return `$'${out.toString('latin1', 0, length)}'`;
}

/**
 * Double-quotes a path the way gitlab-runner's Go `%q` does for plain paths (`mkdir -p "/b/p.tmp"`),
 * but also escapes `$` and backticks so an unusual path can never run anything.
 */
export function quotePath(path: string): string {
  return `"${path.replace(/[\\"$`]/g, (char) => `\\${char}`)}"`;
}

/**
 * Quoting for any POSIX sh (dash, busybox ash, bash), as gitlab-runner quotes with
 * FF_POSIXLY_CORRECT_ESCAPES: bare when safe, else one single-quoted string, each `'` written as
 * `'\''`. Linear in the value's size.
 */
export function escapePosix(value: string | Buffer): string {
  // Job values come from JSON, so they are always whole UTF-8 text; the script stays UTF-8.
  const text = typeof value === 'string' ? value : value.toString('utf8');
  if (text.length === 0) return "''";
  let bare = true;
  for (let index = 0; index < text.length && bare; index += 1) {
    const code = text.charCodeAt(index);
    bare = code < 0x80 && BYTE_CLASS[code] === KEEP_BARE;
  }
  return bare ? text : `'${text.split("'").join("'\\''")}'`;
}

/** How a stage script quotes words and prints a line: bash's ANSI-C strings, or POSIX sh's. */
export interface ScriptQuoting {
  quote(value: string | Buffer): string;
  /** A command that prints `text` and a newline, byte for byte. */
  printLine(text: string): string;
}

export const BASH_QUOTING: ScriptQuoting = {
  quote: escapeShell,
  printLine: (text) => `echo ${escapeShell(text)}`,
};

// dash's echo would read backslashes in the text as escapes; printf '%s\n' prints it as it is.
export const POSIX_QUOTING: ScriptQuoting = {
  quote: escapePosix,
  printLine: (text) => `printf '%s\\n' ${escapePosix(text)}`,
};

/** `escape` applied to a command word and each argument, joined by spaces. */
export function shellCommand(...words: string[]): string {
  return commandWith(BASH_QUOTING, ...words);
}

/** The same with a chosen quoting. */
export function commandWith(quoting: ScriptQuoting, ...words: string[]): string {
  return words.map((word) => quoting.quote(word)).join(' ');
}
