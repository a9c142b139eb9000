// gitlab-runner's getBuildContainerUser and IsUserAllowed (docker executor reference §4.4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobContainerUser, serviceContainerUser } from '../../../src/executor/vm/container-user.js';

const variables = [{ key: 'RUN_AS', value: 'node' }];

describe("the job image's user", () => {
  it('is the configured user, then image:docker:user (expanded), else the image\'s own', () => {
    assert.equal(jobContainerUser({ policy: { user: 'builder', allowedUsers: [] }, requested: { user: 'node' }, variables }), 'builder');
    assert.equal(jobContainerUser({ policy: { allowedUsers: [] }, requested: { user: '$RUN_AS' }, variables }), 'node');
    assert.equal(jobContainerUser({ policy: { allowedUsers: [] }, requested: undefined, variables }), undefined);
    assert.equal(jobContainerUser({ policy: { allowedUsers: [] }, requested: { user: '' }, variables }), undefined);
  });

  it('must be in allowed_users; without the list only the configured user; with neither anyone', () => {
    assert.equal(jobContainerUser({ policy: { allowedUsers: ['node', '1000'] }, requested: { user: '1000' }, variables }), '1000');
    assert.throws(() => jobContainerUser({ policy: { allowedUsers: ['node', '1000'] }, requested: { user: 'root' }, variables }), {
      code: 'USER_NOT_ALLOWED',
      message: 'user "root" is not an allowed user: [node 1000]',
    });
    assert.throws(() => jobContainerUser({ policy: { user: 'builder', allowedUsers: ['node'] }, requested: undefined, variables }), { code: 'USER_NOT_ALLOWED' });
    assert.equal(jobContainerUser({ policy: { user: 'builder', allowedUsers: [] }, requested: undefined, variables }), 'builder');
    assert.equal(jobContainerUser({ policy: { allowedUsers: [] }, requested: { user: 'anyone' }, variables }), 'anyone');
  });
});

describe("a service's user", () => {
  it('is its own services:docker:user, expanded, else its image\'s', () => {
    assert.equal(serviceContainerUser({ user: '$RUN_AS' }, variables), 'node');
    assert.equal(serviceContainerUser({ platform: 'linux/amd64' }, variables), undefined);
    assert.equal(serviceContainerUser(undefined, variables), undefined);
  });
});
