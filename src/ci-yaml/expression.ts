// GitLab's CI/CD expression language (rules:if, only:variables):
// `$VAR`, "string", 'string', /regex/flags, null, ==, !=, =~, !~, &&, ||, parentheses.
// `&&` binds tighter than `||`, as in GitLab.
import { CiConfigError } from './errors.js';
import { re2ToRegExp } from './re2.js';

export type ExpressionVariables = ReadonlyMap<string, string>;

type Token =
  | { kind: 'variable'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'regex'; source: string; flags: string }
  | { kind: 'null' }
  | { kind: 'operator'; op: '==' | '!=' | '=~' | '!~' | '&&' | '||' }
  | { kind: 'paren'; open: boolean };

type Operand = Extract<Token, { kind: 'variable' | 'string' | 'regex' | 'null' }>;

type Expr =
  | { kind: 'operand'; operand: Operand }
  | { kind: 'compare'; op: '==' | '!=' | '=~' | '!~'; left: Operand; right: Operand }
  | { kind: 'logical'; op: '&&' | '||'; left: Expr; right: Expr };

/** Evaluates an expression; throws CI_EXPRESSION_SYNTAX (without location; callers add it). */
export function evaluateExpression(text: string, variables: ExpressionVariables): boolean {
  return truthy(evaluate(parseExpression(text), variables));
}

export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let position = 0;
  const fail = (why: string): never => {
    throw new CiConfigError('CI_EXPRESSION_SYNTAX', `invalid expression "${text}": ${why}`);
  };
  const peek = (): Token | undefined => tokens[position];

  const parseOr = (): Expr => {
    let left = parseAnd();
    for (let token = peek(); token?.kind === 'operator' && token.op === '||'; token = peek()) {
      position++;
      left = { kind: 'logical', op: '||', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parsePrimary();
    for (let token = peek(); token?.kind === 'operator' && token.op === '&&'; token = peek()) {
      position++;
      left = { kind: 'logical', op: '&&', left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): Expr => {
    const token = tokens[position++];
    if (token === undefined) return fail('unexpected end');
    if (token.kind === 'paren') {
      if (!token.open) return fail('unexpected ")"');
      const inner = parseOr();
      const close = tokens[position++];
      if (close?.kind !== 'paren' || close.open) return fail('missing ")"');
      return inner;
    }
    if (token.kind === 'operator') return fail(`unexpected "${token.op}"`);
    const next = peek();
    if (next?.kind === 'operator' && next.op !== '&&' && next.op !== '||') {
      position++;
      const right = tokens[position++];
      if (right === undefined || right.kind === 'operator' || right.kind === 'paren')
        return fail(`"${next.op}" needs a value on its right`);
      return { kind: 'compare', op: next.op, left: token, right };
    }
    return { kind: 'operand', operand: token };
  };

  const expr = parseOr();
  if (position !== tokens.length) fail('unexpected text after the expression');
  return expr;
}

function evaluate(expr: Expr, variables: ExpressionVariables): string | boolean | null {
  switch (expr.kind) {
    case 'operand':
      return valueOf(expr.operand, variables);
    case 'logical': {
      const left = truthy(evaluate(expr.left, variables));
      if (expr.op === '&&') return left && truthy(evaluate(expr.right, variables));
      return left || truthy(evaluate(expr.right, variables));
    }
    case 'compare':
      return compare(expr, variables);
  }
}

function compare(expr: Extract<Expr, { kind: 'compare' }>, variables: ExpressionVariables): boolean {
  const left = valueOf(expr.left, variables);
  if (expr.op === '==' || expr.op === '!=') {
    const right = valueOf(expr.right, variables);
    const equal = left === right;
    return expr.op === '==' ? equal : !equal;
  }
  const pattern = toRegExp(expr.right, variables);
  const matches = typeof left === 'string' && pattern !== undefined && pattern.test(left);
  return expr.op === '=~' ? matches : !matches;
}

// The right side of =~ is a /regex/ or a variable holding "/regex/flags".
function toRegExp(operand: Operand, variables: ExpressionVariables): RegExp | undefined {
  if (operand.kind === 'regex') return re2ToRegExp(operand.source, operand.flags);
  const value = valueOf(operand, variables);
  if (typeof value !== 'string') return undefined;
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(value);
  try {
    return literal ? re2ToRegExp(literal[1] ?? '', literal[2]) : re2ToRegExp(value);
  } catch {
    return undefined;
  }
}

function valueOf(operand: Operand, variables: ExpressionVariables): string | null {
  switch (operand.kind) {
    case 'variable':
      return variables.get(operand.name) ?? null;
    case 'string':
      return operand.value;
    case 'regex':
      return `/${operand.source}/${operand.flags}`;
    case 'null':
      return null;
  }
}

// A variable alone is true when it is defined and not empty.
function truthy(value: string | boolean | null): boolean {
  return typeof value === 'boolean' ? value : value !== null && value !== '';
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|(\$\{)|\$(\w+)|"((?:[^"\\]|\\.)*)"|'([^']*)'|\/((?:[^/\\]|\\.)*)\/([a-z]*)|(==|!=|=~|!~|&&|\|\|)|(\(|\))|(null)\b/y;
  let position = 0;
  while (position < text.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (!match)
      throw new CiConfigError(
        'CI_EXPRESSION_SYNTAX',
        `invalid expression "${text}": cannot read "${text.slice(position)}"`,
      );
    position = pattern.lastIndex;
    const [, braced, bare, double, single, regex, flags, op, paren, nullWord] = match;
    // GitLab's lexer knows only $NAME: "${NAME}" is an unknown lexeme, so the rule is invalid.
    if (braced !== undefined)
      throw new CiConfigError(
        'CI_EXPRESSION_SYNTAX',
        `invalid expression syntax "${text}": write $NAME, not \${NAME}, in rules:if`,
      );
    if (bare !== undefined) tokens.push({ kind: 'variable', name: bare });
    else if (double !== undefined) tokens.push({ kind: 'string', value: double.replace(/\\(.)/g, '$1') });
    else if (single !== undefined) tokens.push({ kind: 'string', value: single });
    else if (regex !== undefined)
      tokens.push({ kind: 'regex', source: checkRegex(text, regex, flags ?? ''), flags: flags ?? '' });
    else if (op !== undefined)
      tokens.push({ kind: 'operator', op: op as Extract<Token, { kind: 'operator' }>['op'] });
    else if (paren !== undefined) tokens.push({ kind: 'paren', open: paren === '(' });
    else if (nullWord !== undefined) tokens.push({ kind: 'null' });
  }
  return tokens;
}

function checkRegex(text: string, source: string, flags: string): string {
  try {
    re2ToRegExp(source, flags);
    return source;
  } catch (error) {
    throw new CiConfigError(
      'CI_EXPRESSION_SYNTAX',
      `invalid expression "${text}": bad regex /${source}/${flags}: ${(error as Error).message}`,
    );
  }
}
