import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRequestValidator,
  loadFirecrackerSpec,
  toJsonSchema,
} from './spec-validator.js';
import { FIRECRACKER_SPEC_PATH, specValidator } from './spec-path.js';

test('the spec loads as Swagger 2.0 at the pinned Firecracker release', () => {
  assert.equal(specValidator().specVersion, '1.16.1');
});

test('conversion drops x- and Swagger-only keys, points refs at the definitions, and closes objects', () => {
  const converted = toJsonSchema(
    {
      type: 'object',
      'x-internal': true,
      example: 'a',
      properties: { a: { $ref: '#/definitions/A', description: 'ignored' }, example: { type: 'string' } },
    },
    true,
  );
  assert.deepEqual(converted, {
    type: 'object',
    properties: { a: { $ref: 'firecracker.json#/definitions/A' }, example: { type: 'string' } },
    additionalProperties: false,
  });
});

test('a regex written as a Swagger format becomes an anchored pattern', () => {
  assert.deepEqual(toJsonSchema({ type: 'string', format: '169.254.[0-9]+' }, true), {
    type: 'string',
    pattern: '^169.254.[0-9]+$',
  });
});

test('valid requests pass and name their operation', () => {
  const validator = specValidator();
  const check = validator.check({
    method: 'PUT',
    path: '/drives/rootfs',
    body: { drive_id: 'rootfs', path_on_host: '/r', is_root_device: false, is_read_only: true },
  });
  assert.deepEqual(check, { ok: true, operationId: 'putGuestDriveByID', pathParams: { drive_id: 'rootfs' } });
  assert.equal(validator.check({ method: 'GET', path: '/machine-config' }).ok, true);
});

test('missing required fields, wrong enums, wrong types and bounds are all reported', () => {
  const check = specValidator().check({
    method: 'PUT',
    path: '/drives/x',
    body: { drive_id: 'x', cache_type: 'Fast', is_read_only: 'yes' },
  });
  assert.equal(check.ok, false);
  const problems = check.ok ? [] : check.problems.join('\n');
  assert.match(String(problems), /required property 'is_root_device'/);
  assert.match(
    String(problems),
    /cache_type must be equal to one of the allowed values \(Unsafe, Writeback\)/,
  );
  assert.match(String(problems), /is_read_only must be boolean/);
  const cid = specValidator().check({
    method: 'PUT',
    path: '/vsock',
    body: { guest_cid: 2, uds_path: '/v.sock' },
  });
  assert.equal(cid.ok, false);
  const vcpus = specValidator().check({
    method: 'PUT',
    path: '/machine-config',
    body: { vcpu_count: 33, mem_size_mib: 128 },
  });
  assert.equal(vcpus.ok, false);
});

test('unknown fields are rejected like Firecracker does, and allowed when the option is off', () => {
  const request = {
    method: 'PUT' as const,
    path: '/boot-source',
    body: { kernel_image_path: '/k', kernel_args: 'x' },
  };
  const strict = specValidator().check(request);
  assert.equal(strict.ok, false);
  assert.match(strict.ok ? '' : strict.problems.join(), /additional properties \(kernel_args\)/);
  const lax = createRequestValidator(loadFirecrackerSpec(FIRECRACKER_SPEC_PATH), {
    rejectUnknownFields: false,
  });
  assert.equal(lax.check(request).ok, true);
});

test('nested refs are checked too (a rate limiter token bucket needs size and refill_time)', () => {
  const check = specValidator().check({
    method: 'PUT',
    path: '/entropy',
    body: { rate_limiter: { bandwidth: { size: 1 } } },
  });
  assert.equal(check.ok, false);
  assert.match(check.ok ? '' : check.problems.join(), /refill_time/);
});

test('unknown paths, undefined methods and missing or unexpected bodies are refused', () => {
  const validator = specValidator();
  assert.deepEqual(validator.check({ method: 'PUT', path: '/nope', body: {} }), {
    ok: false,
    problems: ['no path in the spec matches /nope'],
  });
  assert.deepEqual(validator.check({ method: 'PATCH', path: '/boot-source', body: {} }), {
    ok: false,
    problems: ['PATCH is not defined for /boot-source'],
  });
  assert.deepEqual(validator.check({ method: 'PUT', path: '/actions' }), {
    ok: false,
    problems: ['createSyncAction needs a body'],
  });
  assert.deepEqual(validator.check({ method: 'GET', path: '/version', body: {} }), {
    ok: false,
    problems: ['getFirecrackerVersion takes no body'],
  });
});
