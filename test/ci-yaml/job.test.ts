// image: and services: as GitLab reads them from .gitlab-ci.yml, for tart exec's payload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImage, parseServices } from '../../src/ci-yaml/job.js';

const where = { job: 'build' };

describe('image: and services: in .gitlab-ci.yml', () => {
  it('reads image entrypoint, pull_policy and docker: (user as a name or a number, platform)', () => {
    assert.deepEqual(parseImage('node:20', where), { name: 'node:20' });
    assert.deepEqual(parseImage({ name: 'node:20', entrypoint: [''], pull_policy: 'if-not-present', docker: { user: 1000, platform: 'linux/amd64' } }, where), {
      name: 'node:20',
      entrypoint: [''],
      pullPolicy: ['if-not-present'],
      docker: { user: '1000', platform: 'linux/amd64' },
    });
    assert.deepEqual(parseImage({ name: 'node:20', docker: {} }, where), { name: 'node:20' });
  });

  it('reads a service with alias, command, variables, pull_policy and docker:', () => {
    assert.deepEqual(parseServices([{ name: 'docker:dind', alias: 'docker', command: ['--mtu=1360'], variables: { DOCKER_TLS_CERTDIR: '' }, pull_policy: ['always'], docker: { user: 'dockremap' } }], where), [
      { name: 'docker:dind', alias: 'docker', command: ['--mtu=1360'], variables: [{ key: 'DOCKER_TLS_CERTDIR', value: '' }], pullPolicy: ['always'], docker: { user: 'dockremap' } },
    ]);
  });
});
