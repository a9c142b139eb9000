import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { evaluateExpression } from '../../src/ci-yaml/expression.js';

const VARIABLES = new Map([
  ['BRANCH', 'main'],
  ['EMPTY', ''],
  ['TAG', 'v1.2.3'],
  ['PATTERN', '/^v\\d+/'],
  ['OTHER', 'main'],
]);

const CASES: Array<[string, boolean]> = [
  ['$BRANCH', true],
  ['$EMPTY', false],
  ['$UNDEFINED', false],
  ['$BRANCH == "main"', true],
  ["$BRANCH == 'main'", true],
  ['$BRANCH == $OTHER', true],
  ['$UNDEFINED == null', true],
  ['$EMPTY == null', false],
  ['$EMPTY == ""', true],
  ['$BRANCH != null', true],
  ['$TAG =~ /^v\\d+\\.\\d+/', true],
  ['$TAG =~ /^V1/i', true],
  ['$TAG =~ /^V1/', false],
  ['$TAG !~ /^v/', false],
  ['$UNDEFINED =~ /.*/', false],
  ['$UNDEFINED !~ /.*/', true],
  ['$TAG =~ $PATTERN', true],
  ['$BRANCH == "x" || $TAG', true],
  ['$BRANCH == "main" && $EMPTY', false],
  // && binds tighter than ||
  ['$TAG || $EMPTY && $UNDEFINED', true],
  ['($TAG || $EMPTY) && $UNDEFINED', false],
  ['$BRANCH == "main" && ($TAG =~ /x/ || $OTHER == "main")', true],
];

describe('rules:if expressions', () => {
  for (const [expression, expected] of CASES) {
    it(`${expression} is ${expected}`, () => {
      assert.equal(evaluateExpression(expression, VARIABLES), expected);
    });
  }

  // GitLab's lexer reads variables as $NAME only (Lexeme::Variable PATTERN = /\$(?<name>\w+)/).
  for (const broken of ['$A ==', '($A', '$A == "b" &&', 'A == "b"', '$A =~ /[/', '${BRANCH} != "main"']) {
    it(`rejects "${broken}" with CI_EXPRESSION_SYNTAX`, () => {
      assert.throws(
        () => evaluateExpression(broken, VARIABLES),
        (error: unknown) => hasCode(error, 'CI_EXPRESSION_SYNTAX'),
      );
    });
  }
});
