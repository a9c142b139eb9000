import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRequestedPlatform } from '../../src/oci/requested-platform.js';

describe('image:docker:platform', () => {
  it('accepts linux/amd64 however containerd would spell it, and no platform at all', () => {
    for (const platform of [undefined, '', 'linux/amd64', 'amd64', 'x86_64', 'linux', 'LINUX/AMD64', 'linux/amd64/v2']) checkRequestedPlatform(platform, 'node:20');
  });

  it('refuses another arch as a configuration error, and an unparsable value', () => {
    assert.throws(() => checkRequestedPlatform('linux/arm64', 'node:20'), {
      code: 'IMAGE_PLATFORM_UNSUPPORTED',
      reason: 'runner_configuration_error',
      message: 'platform "linux/arm64" for node:20 is not supported: jobs run in linux/amd64 microVMs',
    });
    assert.throws(() => checkRequestedPlatform('arm64', 'node:20'), { code: 'IMAGE_PLATFORM_UNSUPPORTED' });
    assert.throws(() => checkRequestedPlatform('linux/amd64/v2/extra', 'node:20'), { code: 'IMAGE_PLATFORM_INVALID' });
    assert.throws(() => checkRequestedPlatform('linux/$(x)', 'node:20'), { code: 'IMAGE_PLATFORM_INVALID' });
  });
});
