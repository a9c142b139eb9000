import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FEATURE_FLAG_DEFAULTS,
  featureFlagsSummary,
  featureFlagVariables,
  resolveFeatureFlags,
} from '../../src/job/feature-flags.js';
import { headerLines } from '../../src/job/header.js';

const value = (flags: ReturnType<typeof resolveFeatureFlags>, name: string) =>
  flags.find((flag) => flag.name === name)?.value;

describe('feature flags', () => {
  it('resolve as gitlab-runner: [runners.feature_flags], then the job variable (ParseBool), then the default', () => {
    const flags = resolveFeatureFlags({ FF_SCRIPT_SECTIONS: false }, [
      { key: 'FF_SCRIPT_SECTIONS', value: 'true' },
      { key: 'FF_USE_FASTZIP', value: '0' },
      { key: 'FF_NETWORK_PER_BUILD', value: 'yes please' },
    ]);
    assert.equal(value(flags, 'FF_SCRIPT_SECTIONS'), false, 'config beats the variable');
    assert.equal(value(flags, 'FF_USE_FASTZIP'), false, 'the variable beats the default');
    assert.equal(value(flags, 'FF_NETWORK_PER_BUILD'), false, 'an unparsable variable leaves the default');
    assert.equal(value(flags, 'FF_TIMESTAMPS'), true, "19.x's default");
    assert.equal(flags.length, Object.keys(FEATURE_FLAG_DEFAULTS).length);
  });

  it('the header names only the flags that differ from their default, in gitlab-runner order', () => {
    const flags = resolveFeatureFlags({ FF_USE_FASTZIP: false }, [
      { key: 'FF_NETWORK_PER_BUILD', value: 'true' },
    ]);
    assert.equal(featureFlagsSummary(flags), 'FF_NETWORK_PER_BUILD:true, FF_USE_FASTZIP:false');
    assert.equal(featureFlagsSummary(resolveFeatureFlags(undefined, [])), '');
    const runner = {
      name: 'r1',
      token: 'glrt-AbCdEfGhIjKl',
      environment: [],
      cacheDir: '/c',
      version: '1.2.3',
      revision: 'deadbeef',
      systemId: 's_0123456789ab',
    };
    assert.deepEqual(headerLines(runner, featureFlagsSummary(flags)), [
      'Running with tart 1.2.3 (deadbeef)',
      '  on r1 AbCdEfGhI, system ID: s_0123456789ab',
      '  feature flags: FF_NETWORK_PER_BUILD:true, FF_USE_FASTZIP:false',
    ]);
  });

  it('every flag is exported with its resolved value', () => {
    const variables = featureFlagVariables(resolveFeatureFlags({ FF_TIMESTAMPS: false }, []));
    assert.deepEqual(
      variables.find((variable) => variable.key === 'FF_TIMESTAMPS'),
      {
        key: 'FF_TIMESTAMPS',
        value: 'false',
        public: true,
        masked: false,
      },
    );
    assert.equal(variables.find((variable) => variable.key === 'FF_USE_FASTZIP')?.value, 'true');
  });
});
