import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePullPolicies } from '../../src/oci/pull-policy.js';
import { hasCode } from '../../src/errors.js';
import { disallowedImageLines, isImageAllowed } from '../../src/oci/allowed-images.js';

describe('effectivePullPolicies (gitlab-runner helpers/pull_policies)', () => {
  it('defaults to [always]', () => assert.deepEqual(effectivePullPolicies('x', undefined, {}), ['always']));
  it('the job list wins over the runner list and keeps duplicates', () => {
    assert.deepEqual(effectivePullPolicies('x', ['always', 'always'], { pullPolicy: ['always', 'if-not-present'] }), ['always', 'always']);
  });
  it('the runner list is used when the job names none', () => {
    assert.deepEqual(effectivePullPolicies('x', [], { pullPolicy: ['if-not-present', 'always'] }), ['if-not-present', 'always']);
  });
  it('a job asking for if-not-present fails on a runner that sets neither key', () => {
    assert.throws(
      () => effectivePullPolicies('img', ['if-not-present'], {}),
      (error: unknown) =>
        hasCode(error, 'IMAGE_PULL_POLICY_NOT_ALLOWED') &&
        error.message === 'invalid pull policy for image "img": pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])',
    );
  });
  it('filters by allowed_pull_policies in the requested order', () => {
    assert.deepEqual(effectivePullPolicies('x', ['never', 'if-not-present', 'always'], { allowedPullPolicies: ['always', 'if-not-present'] }), ['if-not-present', 'always']);
  });
  it('an unknown job policy is refused', () => {
    assert.throws(() => effectivePullPolicies('x', ['sometimes'], {}), (error: unknown) => hasCode(error, 'IMAGE_PULL_POLICY_INVALID'));
  });
});

describe('isImageAllowed (doublestar globs as written)', () => {
  it('matches gitlab-runner\'s unit-test table', () => {
    assert.ok(isImageAllowed('library/ruby', ['*/*']));
    assert.ok(!isImageAllowed('library/ruby', ['*/*:*']));
    assert.ok(isImageAllowed('ruby', ['*']));
    assert.ok(isImageAllowed('ruby', ['**/*']));
    assert.ok(isImageAllowed('my.registry.tld/group/subgroup/ruby:2.1', ['my.registry.tld/**/*:*']));
    assert.ok(!isImageAllowed('my.registry.tld/group/subgroup/ruby:2.1', ['my.registry.tld/*/*:*']));
  });
  it('an empty list allows everything; "!" negates nothing', () => {
    assert.ok(isImageAllowed('anything:1', []));
    assert.ok(isImageAllowed('kali/kali:1', ['**', '!*/kali*']));
  });
  it('prints gitlab-runner\'s refusal lines', () => {
    assert.equal(disallowedImageLines('evil:1', ['redis:*'], 'services')[1], 'ERROR: The "evil:1" image is not present on list of allowed services:');
    assert.deepEqual(disallowedImageLines('evil:1', ['ruby:*', 'python:*']), [
      '',
      'ERROR: The "evil:1" image is not present on list of allowed images:',
      '- ruby:*',
      '- python:*',
      '',
      "Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/",
    ]);
  });
});
