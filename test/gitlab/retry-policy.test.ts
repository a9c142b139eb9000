import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiBaseUrl, endpointUrl, fillEndpoint } from '../../src/gitlab/api-url.js';
import { DEFAULT_RETRY_POLICY, isRetryableStatus, retryDelayMs } from '../../src/gitlab/retry-policy.js';

describe('retry policy', () => {
  it('retries the statuses gitlab-runner retries and no other 4xx', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 512, 599])
      assert.equal(isRetryableStatus(DEFAULT_RETRY_POLICY, status), true, String(status));
    for (const status of [400, 401, 403, 404, 409, 413, 416, 501, 505])
      assert.equal(isRetryableStatus(DEFAULT_RETRY_POLICY, status), false, String(status));
  });

  it('backs off exponentially with jitter, capped at 60 s', () => {
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 1, undefined, () => 0),
      50,
    );
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 1, undefined, () => 1),
      100,
    );
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 4, undefined, () => 1),
      800,
    );
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 30, undefined, () => 1),
      60_000,
    );
  });

  it('prefers RateLimit-ResetTime, then Retry-After, over its own backoff', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const reset = new Date(now + 7000).toUTCString();
    assert.equal(
      retryDelayMs(
        DEFAULT_RETRY_POLICY,
        1,
        { 'ratelimit-resettime': reset, 'retry-after': '2' },
        () => 0,
        () => now,
      ),
      7000,
    );
    assert.equal(
      retryDelayMs(
        DEFAULT_RETRY_POLICY,
        1,
        { 'retry-after': '2' },
        () => 0,
        () => now,
      ),
      2000,
    );
    assert.equal(
      retryDelayMs(
        DEFAULT_RETRY_POLICY,
        1,
        { 'retry-after': '3600' },
        () => 0,
        () => now,
      ),
      60_000,
    );
  });
});

describe('API URLs', () => {
  it('strips trailing slashes and a legacy /ci suffix before appending /api/v4/', () => {
    assert.equal(apiBaseUrl('https://gitlab.example.com').href, 'https://gitlab.example.com/api/v4/');
    assert.equal(apiBaseUrl('https://gitlab.example.com//').href, 'https://gitlab.example.com/api/v4/');
    assert.equal(apiBaseUrl('https://gitlab.example.com/ci').href, 'https://gitlab.example.com/api/v4/');
    assert.equal(apiBaseUrl('http://host:8080/sub/ci/').href, 'http://host:8080/sub/api/v4/');
  });

  it('fills endpoint templates and omits empty query parameters', () => {
    const url = endpointUrl(apiBaseUrl('https://g.example'), fillEndpoint('/jobs/:id/trace', { id: 42 }), {
      debug_trace: 'false',
      expire_in: undefined,
      x: '',
    });
    assert.equal(url.href, 'https://g.example/api/v4/jobs/42/trace?debug_trace=false');
  });
});
