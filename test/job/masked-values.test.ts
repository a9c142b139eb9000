import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskedValuesOf, maskPrefixesOf } from '../../src/job/masked-values.js';
import type { JobPayload } from '../../src/model/payload.js';

describe('maskedValuesOf', () => {
  it('collects masked variables, the job token and dependency tokens', () => {
    const job = {
      token: 'job-token-1234',
      dependencies: [{ id: 1, name: 'build', token: 'dep-token-5678' }],
      features: { token_mask_prefixes: ['abc-'] },
    } as unknown as JobPayload;
    const values = maskedValuesOf(job, [
      { key: 'A', value: 'visible' },
      { key: 'B', value: 'hidden-value', masked: true },
      { key: 'C', value: ' ', masked: true },
    ]);
    assert.deepEqual(values, ['hidden-value', 'job-token-1234', 'dep-token-5678']);
    assert.deepEqual(maskPrefixesOf(job), ['abc-']);
  });
});
