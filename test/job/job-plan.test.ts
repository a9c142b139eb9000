import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobEnvironment } from '../../src/executor/types.js';
import { parseJobPayload } from '../../src/gitlab/parse-payload.js';
import { scriptContextFor } from '../../src/job/job-plan.js';
import type { JobPayload } from '../../src/model/payload.js';
import { buildStageScript } from '../../src/shell/stage-script.js';
import { makeJobPayload } from '../support/fake-gitlab/payloads.js';
import { makeRunner } from '../shell/helpers.js';

function loopbackJob(): JobPayload {
  const parsed = parseJobPayload(
    makeJobPayload({ id: 9, token: 'glcbt-64_jobtoken', pipelineId: 4, baseUrl: 'http://127.0.0.1:4567' }),
  );
  assert.ok(parsed.ok);
  return parsed.job;
}

function environment(hostLoopbackAlias?: string): JobEnvironment {
  return {
    executorName: 'qemu',
    buildsDir: '/builds',
    disposable: true,
    ...(hostLoopbackAlias ? { hostLoopbackAlias } : {}),
    exec: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
  };
}

const value = (variables: { key: string; value: string }[], key: string) =>
  variables.findLast((variable) => variable.key === key)?.value;

describe('the script context', () => {
  it('gives a guest that reaches the host loopback at an alias the GitLab URLs on that alias', () => {
    const job = loopbackJob();
    const ctx = scriptContextFor({ job, runner: makeRunner(), env: environment('10.0.2.2') });
    assert.equal(value(ctx.variables, 'CI_SERVER_URL'), 'http://10.0.2.2:4567');
    assert.equal(value(ctx.variables, 'CI_API_V4_URL'), 'http://10.0.2.2:4567/api/v4');
    assert.equal(value(ctx.variables, 'CI_SERVER_HOST'), '10.0.2.2');
    assert.match(ctx.job.git_info.repo_url, /@10\.0\.2\.2:4567\/acme\/widget\.git$/);
    assert.equal(ctx.projectDir, '/builds/acme/widget');
    const script = buildStageScript('get_sources', ctx) ?? '';
    assert.match(script, /http:\/\/10\.0\.2\.2:4567\/acme\/widget\.git/);
    assert.match(script, /insteadOf = \\"http:\/\/127\.0\.0\.1:4567\/\\"|insteadOf = "http:\/\/127\.0\.0\.1:4567\/"/);
    // The payload the API client holds is untouched.
    assert.match(job.git_info.repo_url, /@127\.0\.0\.1:4567\//);
  });

  it('keeps the loopback URLs for an environment on the host itself', () => {
    const ctx = scriptContextFor({ job: loopbackJob(), runner: makeRunner(), env: environment() });
    assert.equal(value(ctx.variables, 'CI_SERVER_URL'), 'http://127.0.0.1:4567');
    assert.equal(ctx.gitRewrites, undefined);
    assert.doesNotMatch(buildStageScript('get_sources', ctx) ?? '', /10\.0\.2\.2/);
  });
});
