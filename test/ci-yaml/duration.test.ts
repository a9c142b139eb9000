import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { parseDuration } from '../../src/ci-yaml/duration.js';

describe('GitLab duration strings', () => {
  const cases: Array<[string | number, number]> = [
    ['3600', 3600],
    [90, 90],
    ['30m', 1800],
    ['1h 30m', 5400],
    ['1h30m', 5400],
    ['2 hours', 7200],
    ['3 hours 15 minutes', 11700],
    ['1 day', 86400],
    ['1 week', 604800],
    ['10 mins 5 secs', 605],
    ['1 hour and 5 minutes', 3900],
  ];
  for (const [text, seconds] of cases) {
    it(`"${text}" is ${seconds} s`, () => assert.equal(parseDuration(text), seconds));
  }
  for (const bad of ['soon', '5 parsecs', '1h soon', '']) {
    it(`rejects "${bad}"`, () =>
      assert.throws(
        () => parseDuration(bad),
        (error: unknown) => hasCode(error, 'CI_DURATION_INVALID'),
      ));
  }
});
