// Glob patterns for `artifacts:paths`, `exclude` and `cache:paths`, with the semantics of
// bmatcuk/doublestar v4 that gitlab-runner uses: `**` as a whole component spans zero or more
// directories, `*` and `?` never cross `/`, `[...]` classes, `{a,b}` alternatives, `\` escapes.
// Pure functions over slash paths relative to the project dir; no filesystem access.

/** A compiled pattern: tests project-relative slash paths. */
export interface PathPattern {
  readonly source: string;
  /** True when the pattern ended in `/`: only directories match. */
  readonly directoriesOnly: boolean;
  matches(path: string): boolean;
}

const GLOB_CHARACTERS = /[*?[{\\]/;
const MAX_ALTERNATIVES = 1024;

/** True when `pattern` holds a glob character (gitlab-runner: any of `*?[{`). */
export function isGlob(pattern: string): boolean {
  return GLOB_CHARACTERS.test(pattern);
}

/** The leading components without glob characters: where a file search can start. */
export function globBase(pattern: string): string {
  const components = pattern.split('/');
  const literal: string[] = [];
  for (const component of components) {
    if (isGlob(component)) break;
    literal.push(component);
  }
  // A pattern without glob characters is its own base.
  return literal.join('/');
}

/** Compiles a project-relative pattern (already variable-expanded and normalised). */
export function compilePathPattern(pattern: string): PathPattern {
  const directoriesOnly = pattern.length > 1 && pattern.endsWith('/');
  const trimmed = directoriesOnly ? pattern.replace(/\/+$/, '') : pattern;
  const alternatives = expandBraces(trimmed).map(
    (alternative) => new RegExp(`^${componentsToRegExp(alternative)}$`),
  );
  return {
    source: pattern,
    directoriesOnly,
    matches: (path) => alternatives.some((regexp) => regexp.test(path)),
  };
}

/** One-shot match, doublestar `Match` style. */
export function matchPath(pattern: string, path: string): boolean {
  return compilePathPattern(pattern).matches(path);
}

// Expands `{a,b}` (nested, may contain `/`) into brace-free alternatives; an unclosed `{` is literal.
function expandBraces(pattern: string): string[] {
  const open = findUnescaped(pattern, '{', 0);
  if (open < 0) return [pattern];
  const close = findClosingBrace(pattern, open);
  if (close < 0) return [pattern];
  const prefix = pattern.slice(0, open);
  const suffixes = expandBraces(pattern.slice(close + 1));
  const results: string[] = [];
  for (const option of splitTopLevelCommas(pattern.slice(open + 1, close))) {
    for (const middle of expandBraces(option)) {
      for (const suffix of suffixes) {
        results.push(prefix + middle + suffix);
        if (results.length > MAX_ALTERNATIVES) return results;
      }
    }
  }
  return results;
}

function findUnescaped(text: string, wanted: string, from: number): number {
  for (let index = from; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === wanted) return index;
  }
  return -1;
}

function findClosingBrace(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\') index += 1;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function splitTopLevelCommas(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\') index += 1;
    else if (char === '{') depth += 1;
    else if (char === '}') depth -= 1;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

// Joins component regexps; a `**` component matches zero or more whole components.
function componentsToRegExp(pattern: string): string {
  const components = pattern.split('/');
  let regexp = '';
  let needSlash = false;
  components.forEach((component, index) => {
    const last = index === components.length - 1;
    if (component === '**') {
      if (last) regexp += needSlash ? '(?:/[\\s\\S]*)?' : '[\\s\\S]*';
      else regexp += needSlash ? '(?:/[\\s\\S]*)?/' : '(?:[\\s\\S]*/)?';
      needSlash = false;
      return;
    }
    if (needSlash) regexp += '/';
    regexp += componentToRegExp(component);
    needSlash = true;
  });
  return regexp;
}

// One path component: `*` → any run of non-slash characters, `?` → one, `[...]` → a class.
function componentToRegExp(component: string): string {
  let regexp = '';
  for (let index = 0; index < component.length; index += 1) {
    const char = component[index] as string;
    if (char === '\\' && index + 1 < component.length) {
      index += 1;
      regexp += escapeRegExp(component[index] as string);
    } else if (char === '*') {
      while (component[index + 1] === '*') index += 1;
      regexp += '[^/]*';
    } else if (char === '?') {
      regexp += '[^/]';
    } else if (char === '[') {
      const parsed = characterClass(component, index);
      if (parsed === undefined) regexp += '\\[';
      else {
        regexp += parsed.regexp;
        index = parsed.end;
      }
    } else {
      regexp += escapeRegExp(char);
    }
  }
  return regexp;
}

// Parses `[...]` starting at `open`; undefined when it is not closed (then `[` is literal).
function characterClass(component: string, open: number): { regexp: string; end: number } | undefined {
  let index = open + 1;
  let negated = false;
  if (component[index] === '!' || component[index] === '^') {
    negated = true;
    index += 1;
  }
  let body = '';
  let first = true;
  for (; index < component.length; index += 1) {
    const char = component[index] as string;
    if (char === ']' && !first) {
      return { regexp: `[${negated ? '^/' : ''}${body}]`, end: index };
    }
    first = false;
    if (char === '\\' && index + 1 < component.length) {
      index += 1;
      body += escapeClassCharacter(component[index] as string);
    } else if (char === '-') {
      body += '-';
    } else {
      body += escapeClassCharacter(char);
    }
  }
  return undefined;
}

function escapeRegExp(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}

function escapeClassCharacter(char: string): string {
  return /[\]\\^[-]/.test(char) ? `\\${char}` : char;
}
