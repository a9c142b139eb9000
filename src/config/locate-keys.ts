// Maps dotted key paths (`runners[1].vm.memory_mb`, `runners[0].environment[2]`) to the line
// they are written on, because smol-toml returns values without positions and config errors must
// name the line. Runs only on text smol-toml already accepted, so it can be a forgiving scanner.

/** Key path → 1-based line. Tables map to their header line, array items to their own line. */
export type KeyLines = ReadonlyMap<string, number>;

export function locateKeys(source: string): KeyLines {
  const scanner = new Scanner(source);
  scanner.scanDocument();
  return scanner.lines;
}

/** The line of `path`, or of its nearest written ancestor (e.g. the table a missing key belongs in). */
export function lineOf(lines: KeyLines, path: string): number | undefined {
  for (let current = path; current !== ''; current = parentPath(current)) {
    const line = lines.get(current);
    if (line !== undefined) return line;
  }
  return undefined;
}

function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

const BARE_KEY = /[A-Za-z0-9_-]/;

// A "quoted" key's text; TOML-only escapes (\UXXXXXXXX) are rare enough to keep raw.
function unescapeBasic(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1);
  }
}

class Scanner {
  readonly lines = new Map<string, number>();
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  /** Resolved path of each array of tables → how many elements have been opened so far. */
  private readonly arrayCounts = new Map<string, number>();

  constructor(private readonly text: string) {
    for (let index = 0; index < text.length; index++)
      if (text[index] === '\n') this.lineStarts.push(index + 1);
  }

  scanDocument(): void {
    let table = '';
    for (;;) {
      this.skipTrivia(true);
      if (this.pos >= this.text.length) return;
      const start = this.pos;
      if (this.text.startsWith('[[', this.pos)) {
        this.pos += 2;
        table = this.openTable(this.readKey(), true, start);
        this.pos = this.text.indexOf(']]', this.pos) + 2;
      } else if (this.text[this.pos] === '[') {
        this.pos += 1;
        table = this.openTable(this.readKey(), false, start);
        this.pos = this.text.indexOf(']', this.pos) + 1;
      } else {
        this.readKeyValue(table);
      }
      if (this.pos <= start) this.pos = start + 1; // never loop on text we did not understand
    }
  }

  // `[a.b]` or `[[a.b]]`: resolves array-of-tables indexes along the way and records the header line.
  private openTable(segments: string[], isArray: boolean, start: number): string {
    let path = '';
    segments.forEach((segment, index) => {
      path = path === '' ? segment : `${path}.${segment}`;
      if (isArray && index === segments.length - 1) {
        const count = (this.arrayCounts.get(path) ?? 0) + 1;
        this.arrayCounts.set(path, count);
        this.record(path, start);
        path = `${path}[${count - 1}]`;
      } else {
        const count = this.arrayCounts.get(path);
        if (count !== undefined) path = `${path}[${count - 1}]`;
      }
      this.record(path, start);
    });
    return path;
  }

  // `a.b = value` inside `table`; records every prefix of the dotted key, then the value's insides.
  private readKeyValue(table: string): void {
    const start = this.pos;
    let path = table;
    for (const segment of this.readKey()) {
      path = path === '' ? segment : `${path}.${segment}`;
      this.record(path, start);
    }
    this.skipSpaces();
    if (this.text[this.pos] === '=') this.pos += 1;
    this.readValue(path);
  }

  private readValue(path: string): void {
    this.skipSpaces();
    const rest = this.text.slice(this.pos, this.pos + 3);
    if (rest === '"""' || rest === "'''") this.skipMultilineString(rest);
    else if (rest.startsWith('"')) this.skipString('"');
    else if (rest.startsWith("'")) this.skipString("'");
    else if (rest.startsWith('[')) this.readArray(path);
    else if (rest.startsWith('{')) this.readInlineTable(path);
    else while (this.pos < this.text.length && !',]}\n#'.includes(this.text[this.pos] ?? '')) this.pos += 1;
  }

  private readArray(path: string): void {
    this.pos += 1;
    for (let index = 0; ; index++) {
      this.skipTrivia(true);
      if (this.pos >= this.text.length || this.text[this.pos] === ']') break;
      this.record(`${path}[${index}]`, this.pos);
      this.readValue(`${path}[${index}]`);
      this.skipTrivia(true);
      if (this.text[this.pos] === ',') this.pos += 1;
    }
    this.pos += 1;
  }

  private readInlineTable(path: string): void {
    this.pos += 1;
    for (;;) {
      this.skipTrivia(true);
      if (this.pos >= this.text.length || this.text[this.pos] === '}') break;
      const before = this.pos;
      this.readKeyValue(path);
      this.skipTrivia(true);
      if (this.text[this.pos] === ',') this.pos += 1;
      if (this.pos === before) this.pos += 1;
    }
    this.pos += 1;
  }

  // A dotted key: bare, "basic" or 'literal' segments separated by dots.
  private readKey(): string[] {
    const segments: string[] = [];
    for (;;) {
      this.skipSpaces();
      const quote = this.text[this.pos];
      if (quote === '"' || quote === "'") {
        const start = this.pos;
        this.skipString(quote);
        const literal = this.text.slice(start, this.pos);
        segments.push(quote === '"' ? unescapeBasic(literal) : literal.slice(1, -1));
      } else {
        const start = this.pos;
        while (BARE_KEY.test(this.text[this.pos] ?? '')) this.pos += 1;
        segments.push(this.text.slice(start, this.pos));
      }
      this.skipSpaces();
      if (this.text[this.pos] !== '.') return segments;
      this.pos += 1;
    }
  }

  private skipString(quote: string): void {
    this.pos += 1;
    while (this.pos < this.text.length && this.text[this.pos] !== quote && this.text[this.pos] !== '\n') {
      this.pos += quote === '"' && this.text[this.pos] === '\\' ? 2 : 1;
    }
    this.pos += 1;
  }

  private skipMultilineString(delimiter: string): void {
    this.pos += 3;
    while (this.pos < this.text.length && !this.text.startsWith(delimiter, this.pos)) {
      this.pos += delimiter === '"""' && this.text[this.pos] === '\\' ? 2 : 1;
    }
    this.pos += 3;
    // Up to two quotes right before the closing delimiter belong to the content.
    for (let extra = 0; extra < 2 && this.text[this.pos] === delimiter[0]; extra++) this.pos += 1;
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos += 1;
  }

  // Whitespace, comments and (when allowed) newlines.
  private skipTrivia(newlines: boolean): void {
    for (;;) {
      const char = this.text[this.pos];
      if (char === ' ' || char === '\t' || (newlines && (char === '\n' || char === '\r'))) this.pos += 1;
      else if (char === '#')
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos += 1;
      else return;
    }
  }

  private record(path: string, offset: number): void {
    if (!this.lines.has(path)) this.lines.set(path, this.lineAt(offset));
  }

  // Binary search over line starts: offset → 1-based line.
  private lineAt(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.lineStarts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }
}
