import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobImageSettings } from '../../../src/executor/vm/job-image.js';
import { checkServicesLimit, configServiceDefinition, prepareJobServices } from '../../../src/executor/vm/job-services.js';
import { parseJobPayload } from '../../../src/gitlab/parse-payload.js';
import type { JobPayload } from '../../../src/model/payload.js';
import type { ImageStore } from '../../../src/oci/store.js';
import { makeJobPayload } from '../../support/fake-gitlab/payloads.js';

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

// Everything here is decided before any image is pulled, so no store is reached.
describe('[[runners.vm.services]] beside the job\'s services', () => {
  const NO_STORE = undefined as unknown as ImageStore;
  const settings = (extra: Partial<JobImageSettings>): JobImageSettings => ({
    store: NO_STORE,
    allowedImages: [],
    allowedPullPolicies: [],
    environment: [],
    services: [{ name: 'redis:7', alias: 'cache', environment: ['A=1', 'B=x=y'] }],
    ...extra,
  });
  const job = (services: Array<string | { name: string; alias?: string }>): JobPayload => {
    const parsed = parseJobPayload(makeJobPayload({ id: 7, token: 'glcbt-64_secret', pipelineId: 3, baseUrl: 'http://127.0.0.1:1', services }));
    assert.ok(parsed.ok);
    return parsed.job;
  };

  it("comes first, as gitlab-runner's getServicesDefinitions orders them, and is always allowed", async () => {
    const lines: string[] = [];
    const refused = prepareJobServices(job([{ name: 'redis:7', alias: 'cache' }, 'evil:1']), settings({ allowedServices: ['postgres:*'] }), (line) => lines.push(line), new AbortController().signal);
    await assert.rejects(refused, { code: 'SERVICE_NOT_ALLOWED' });
    assert.deepEqual(lines.slice(0, 2), [
      'WARNING: Skipping alias "redis" for service "redis:7" (services[1]): alias is already in use by another service.',
      'WARNING: Skipping alias "cache" for service "redis:7" (services[1]): alias is already in use by another service.',
    ]);
    // The job's redis:7 passes as the runner's own image; evil:1 is the one refused.
    assert.deepEqual(lines.filter((line) => line.startsWith('ERROR:')), ['ERROR: The "evil:1" image is not present on list of allowed services:']);
  });

  it('counts towards services_limit', async () => {
    const over = prepareJobServices(job(['postgres:16', 'mysql:8']), settings({ servicesLimit: 2 }), () => undefined, new AbortController().signal);
    await assert.rejects(over, { code: 'SERVICES_LIMIT_EXCEEDED', message: 'too many services requested: 3, only 2 allowed' });
  });

  it('is checked after allowed_services, as gitlab-runner checks them', async () => {
    const both = prepareJobServices(job(['postgres:16', 'evil:1']), settings({ servicesLimit: 1, allowedServices: ['postgres:*'] }), () => undefined, new AbortController().signal);
    await assert.rejects(both, { code: 'SERVICE_NOT_ALLOWED' });
  });

  it("becomes a payload service, its environment the service's own variables", () => {
    assert.deepEqual(configServiceDefinition({ name: 'redis:7', alias: 'cache', command: ['--port', '7000'], environment: ['A=1', 'B=x=y'] }), {
      name: 'redis:7',
      alias: 'cache',
      command: ['--port', '7000'],
      variables: [
        { key: 'A', value: '1' },
        { key: 'B', value: 'x=y' },
      ],
    });
  });
});
