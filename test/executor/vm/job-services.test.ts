import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkServicesLimit } from '../../../src/executor/vm/job-services.js';

describe('services_limit', () => {
  it('allows any number when unset or negative, and up to the limit', () => {
    for (const limit of [undefined, -1]) checkServicesLimit(50, limit);
    checkServicesLimit(2, 2);
    checkServicesLimit(0, 0);
  });

  it("refuses more services than the limit with gitlab-runner's message", () => {
    assert.throws(() => checkServicesLimit(3, 2), { code: 'SERVICES_LIMIT_EXCEEDED', message: 'too many services requested: 3, only 2 allowed' });
  });
});
