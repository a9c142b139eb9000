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

/** Quotes `value` (as UTF-8 bytes) so bash reads it back unchanged and never expands it. */
export function escapeShell(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length === 0) return "''";
  let out = '';
  let quoted = false;
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && LITERAL.test(char)) {
      out += char;
    } else if (QUOTE_ONLY.has(byte)) {
      out += char;
      quoted = true;
    } else {
      out += NAMED_ESCAPES.get(byte) ?? `\\x${byte.toString(16).padStart(2, '0')}`;
      quoted = true;
    }
  }
  return quoted ? `$'${out}'` : out;
}

/**
 * Double-quotes a path the way gitlab-runner's Go `%q` does for plain paths (`mkdir -p "/b/p.tmp"`),
 * but also escapes `$` and backticks so an unusual path can never run anything.
 */
export function quotePath(path: string): string {
  return `"${path.replace(/[\\"$`]/g, (char) => `\\${char}`)}"`;
}

/** `escape` applied to a command word and each argument, joined by spaces. */
export function shellCommand(...words: string[]): string {
  return words.map((word) => escapeShell(word)).join(' ');
}
