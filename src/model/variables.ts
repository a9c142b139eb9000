// Job variables as data: lookup, gitlab-runner's truthiness, and `$VAR` expansion as Go's os.Expand
// does it. No I/O: job/, shell/, artifacts/ and cache/ all read variables through these.
import type { JobVariable } from './payload.js';

/**
 * Expands `$NAME`, `${NAME}` in `value` once against `variables` with Go `os.Expand` rules as
 * gitlab-runner uses them: last occurrence wins, unknown names and `$1`…`$9 $* $# $@ $! $? $- $0`
 * become empty, `$$` becomes `$`, `${}` and a dangling `${` are dropped, any other `$` stays.
 */
export function expandVariables(value: string, variables: JobVariable[]): string {
  let out = '';
  let index = 0;
  while (index < value.length) {
    const dollar = value.indexOf('$', index);
    if (dollar < 0 || dollar === value.length - 1) break;
    out += value.slice(index, dollar);
    const { name, width } = shellName(value.slice(dollar + 1));
    if (name === '' && width === 0) out += '$';
    else if (name !== '') out += lookupForExpansion(name, variables);
    index = dollar + 1 + width;
  }
  return out + value.slice(index);
}

/** The value of the last variable named `key`, or undefined. */
export function getVariable(variables: JobVariable[], key: string): string | undefined {
  for (let index = variables.length - 1; index >= 0; index--) {
    const variable = variables[index];
    if (variable?.key === key) return variable.value;
  }
  return undefined;
}

/** True for the values gitlab-runner's settings parser (Go strconv.ParseBool) reads as true. */
export function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

// Go os.Expand's getShellName: the name after `$` and how many bytes it used (0: keep the `$`).
function shellName(rest: string): { name: string; width: number } {
  const first = rest[0] ?? '';
  if (first === '{') {
    if (rest.length > 2 && isSpecial(rest[1] ?? '') && rest[2] === '}')
      return { name: rest[1] ?? '', width: 3 };
    const close = rest.indexOf('}', 1);
    if (close === 1) return { name: '', width: 2 };
    if (close < 0) return { name: '', width: 1 };
    return { name: rest.slice(1, close), width: close + 1 };
  }
  if (isSpecial(first)) return { name: first, width: 1 };
  const alnum = /^[A-Za-z0-9_]*/.exec(rest)?.[0] ?? '';
  return { name: alnum, width: alnum.length };
}

function isSpecial(char: string): boolean {
  return char.length === 1 && '*#$@!?-0123456789'.includes(char);
}

// gitlab-runner's expansion mapping: `$$` → `$`, shell specials → '', file variables → their path.
function lookupForExpansion(name: string, variables: JobVariable[]): string {
  if (name === '$') return '$';
  if (name.length === 1 && isSpecial(name)) return '';
  for (let index = variables.length - 1; index >= 0; index--) {
    const variable = variables[index];
    if (variable?.key !== name) continue;
    if (!variable.file) return variable.value;
    const tmpDir = getVariable(variables, 'RUNNER_TEMP_PROJECT_DIR');
    return tmpDir === undefined ? variable.value : `${tmpDir}/${variable.key}`;
  }
  return '';
}
