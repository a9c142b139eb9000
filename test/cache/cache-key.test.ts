import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cachePolicy,
  expandCacheKey,
  globalFallbackKey,
  isProtectedFallbackKey,
  sanitiseCacheKey,
} from '../../src/cache/cache-key.js';
import { hasCode } from '../../src/errors.js';
import type { JobCache } from '../../src/model/payload.js';
import { jobPayload } from '../artifacts/fixtures.js';

describe('cache key sanitising (gitlab-runner 18.3+)', () => {
  const TABLE: Array<[string, string | undefined]> = [
    ['main-protected', 'main-protected'],
    ['build/main', 'build/main'],
    ['a%2Fb%2fc', 'a/b/c'],
    ['%2e%2E/%2E%2e/etc', 'etc'],
    ['win\\style\\key', 'win/style/key'],
    ['../../outside', 'outside'],
    ['a/./b/../c', 'a/c'],
    ['/leading/slash', 'leading/slash'],
    ['key with trailing space   ', 'key with trailing space'],
    ['a/b/   ', 'a/b'],
    ['..', undefined],
    ['   ', undefined],
    ['', undefined],
  ];
  for (const [raw, expected] of TABLE) {
    it(`"${raw}" → ${expected === undefined ? 'refused' : `"${expected}"`}`, () => {
      const result = sanitiseCacheKey(raw);
      if (expected === undefined) assert.equal(result.ok, false);
      else assert.deepEqual(result, { ok: true, key: expected, changed: expected !== raw });
    });
  }
});

describe('cache key, policy and fallback key', () => {
  it('uses <job name>/<git ref> for an empty key and expands variables', () => {
    const job = jobPayload();
    assert.equal(expandCacheKey({ key: '', paths: ['x'] }, job, []), 'build/main');
    assert.equal(
      expandCacheKey({ key: 'deps-$CI_COMMIT_REF_SLUG', paths: ['x'] }, job, [
        { key: 'CI_COMMIT_REF_SLUG', value: 'main' },
      ]),
      'deps-main',
    );
  });

  it('reads pull, push and pull-push (also from a variable) and refuses anything else', () => {
    assert.deepEqual(cachePolicy({ key: 'k', paths: [], policy: '' }, 'k', []), { pull: true, push: true });
    assert.deepEqual(cachePolicy({ key: 'k', paths: [], policy: 'pull' }, 'k', []), {
      pull: true,
      push: false,
    });
    assert.deepEqual(
      cachePolicy({ key: 'k', paths: [], policy: '$P' as JobCache['policy'] }, 'k', [
        { key: 'P', value: 'push' },
      ]),
      { pull: false, push: true },
    );
    assert.throws(
      () => cachePolicy({ key: 'k', paths: [], policy: 'sometimes' as JobCache['policy'] }, 'k', []),
      (error) =>
        hasCode(error, 'CACHE_POLICY_UNKNOWN') && error.message === 'unknown cache policy sometimes for k',
    );
  });

  it('takes the last CACHE_FALLBACK_KEY and spots protected keys', () => {
    assert.equal(
      globalFallbackKey([
        { key: 'CACHE_FALLBACK_KEY', value: 'a' },
        { key: 'CACHE_FALLBACK_KEY', value: 'b' },
      ]),
      'b',
    );
    assert.equal(globalFallbackKey([]), undefined);
    assert.equal(isProtectedFallbackKey('main-protected'), true);
    assert.equal(isProtectedFallbackKey('main-protected. .'), true);
    assert.equal(isProtectedFallbackKey('main-non_protected'), false);
  });
});
