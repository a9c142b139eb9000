import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheObjectName } from '../../src/cache/object-name.js';
import { shortToken } from '../../src/config/short-token.js';
import { hasCode } from '../../src/errors.js';

// gitlab-runner's cache/cache.go generateObjectName, case by case.
describe('shared cache object names', () => {
  const base = { shortToken: shortToken('glrt-abcdefghijklmnop'), projectId: 42, key: 'deps/main' };

  it('puts a runner-private cache under runner/<short token>/project/<id>/<key>', () => {
    assert.equal(base.shortToken, 'abcdefghi');
    assert.equal(cacheObjectName({ ...base, shared: false }), 'runner/abcdefghi/project/42/deps/main');
  });

  it('drops the runner level when Shared = true', () => {
    assert.equal(cacheObjectName({ ...base, shared: true }), 'project/42/deps/main');
  });

  it('prefixes Path, cleaned as Go path.Join cleans it', () => {
    assert.equal(
      cacheObjectName({ ...base, shared: false, path: 'ci/cache' }),
      'ci/cache/runner/abcdefghi/project/42/deps/main',
    );
    assert.equal(
      cacheObjectName({ ...base, shared: true, path: 'ci//cache/' }),
      'ci/cache/project/42/deps/main',
    );
    assert.equal(cacheObjectName({ ...base, shared: true, path: '' }), 'project/42/deps/main');
  });

  it('uses gitlab-runner short tokens for legacy and registration tokens', () => {
    assert.equal(
      cacheObjectName({ ...base, shortToken: shortToken('a1b2c3d4e5f6'), shared: false }),
      'runner/a1b2c3d4/project/42/deps/main',
    );
  });

  it("refuses a key that leaves the project with gitlab-runner's message", () => {
    for (const key of ['../other/key', '..', '']) {
      assert.throws(
        () => cacheObjectName({ ...base, key, shared: true }),
        (error: unknown) =>
          hasCode(error, 'CACHE_KEY_INVALID') &&
          /outside of project bucket\. Please remove `\.\.\/`/.test(error.message),
        key,
      );
    }
  });
});
