import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePathPattern, globBase, isGlob, matchPath } from '../../src/artifacts/path-pattern.js';

// [pattern, path, expected] — doublestar v4 Match semantics.
const TABLE: Array<[string, string, boolean]> = [
  ['build', 'build', true],
  ['build', 'build2', false],
  ['*.txt', 'a.txt', true],
  ['*.txt', 'dir/a.txt', false],
  ['*.txt', '.hidden.txt', true],
  ['dir/*', 'dir/a', true],
  ['dir/*', 'dir/a/b', false],
  ['dir/*', 'dir', false],
  ['**', 'a/b/c', true],
  ['**', 'a', true],
  ['**/*.log', 'x.log', true],
  ['**/*.log', 'a/b/x.log', true],
  ['**/*.log', 'a/b/x.txt', false],
  ['a/**/b', 'a/b', true],
  ['a/**/b', 'a/x/y/b', true],
  ['a/**/b', 'a/x/y/c', false],
  ['a/**/b', 'ab', false],
  ['a/**', 'a', true],
  ['a/**', 'a/x/y', true],
  ['a/**', 'ab', false],
  ['a**', 'abc', true],
  ['a**', 'a/b', false],
  ['?.c', 'x.c', true],
  ['?.c', 'xy.c', false],
  ['?', '/', false],
  ['[abc].go', 'b.go', true],
  ['[abc].go', 'd.go', false],
  ['[a-c]x', 'bx', true],
  ['[!a-c]x', 'dx', true],
  ['[^a-c]x', 'ax', false],
  ['{foo,bar}/*.js', 'foo/a.js', true],
  ['{foo,bar}/*.js', 'bar/a.js', true],
  ['{foo,bar}/*.js', 'baz/a.js', false],
  ['{a/b,c}/d', 'a/b/d', true],
  ['x{1,{2,3}}', 'x3', true],
  ['x{1,{2,3}}', 'x4', false],
  ['\\*.txt', '*.txt', true],
  ['\\*.txt', 'a.txt', false],
  ['a[b', 'a[b', true],
  ['file(1).txt', 'file(1).txt', true],
  ['a+b', 'a+b', true],
  ['a.b', 'axb', false],
  ['target/*.jar', 'target/app-1.0.jar', true],
];

describe('doublestar path patterns', () => {
  for (const [pattern, path, expected] of TABLE) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => {
      assert.equal(matchPath(pattern, path), expected);
    });
  }

  it('a pattern ending in a slash only matches directories', () => {
    const pattern = compilePathPattern('build/*/');
    assert.equal(pattern.directoriesOnly, true);
    assert.equal(pattern.matches('build/x'), true);
    assert.equal(compilePathPattern('build/*').directoriesOnly, false);
  });

  it('recognises glob characters like gitlab-runner (any of *?[{)', () => {
    assert.equal(isGlob('build/out'), false);
    for (const pattern of ['*.c', 'a?', 'a[b]', '{a,b}']) assert.equal(isGlob(pattern), true, pattern);
  });

  it('splits off the literal leading directories as the search base', () => {
    assert.equal(globBase('target/**/*.jar'), 'target');
    assert.equal(globBase('a/b/c'), 'a/b/c');
    assert.equal(globBase('**/*.log'), '');
    assert.equal(globBase('src/{a,b}/x'), 'src');
  });
});
