import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJobPayload } from '../../src/gitlab/parse-payload.js';
import { guestUrl, guestViewOf } from '../../src/model/guest-urls.js';
import type { JobPayload } from '../../src/model/payload.js';
import { makeJobPayload } from '../support/fake-gitlab/payloads.js';
import { makeRunner } from '../shell/helpers.js';

const ALIAS = '10.0.2.2';

function jobFrom(baseUrl: string): JobPayload {
  const parsed = parseJobPayload(makeJobPayload({ id: 7, token: 'glcbt-64_secret', pipelineId: 3, baseUrl }));
  assert.ok(parsed.ok);
  return parsed.job;
}

const value = (job: JobPayload, key: string) => job.variables.find((variable) => variable.key === key)?.value;

describe('guest URLs', () => {
  it('rewrites 127.0.0.1, localhost and [::1] to the alias, keeping userinfo, port and path', () => {
    assert.equal(guestUrl('http://127.0.0.1:8080/a/b.git', ALIAS), 'http://10.0.2.2:8080/a/b.git');
    assert.equal(guestUrl('https://LocalHost/api/v4', ALIAS), 'https://10.0.2.2/api/v4');
    assert.equal(guestUrl('http://[::1]:3000', ALIAS), 'http://10.0.2.2:3000');
    assert.equal(
      guestUrl('http://gitlab-ci-token:tok@localhost:4000/g/p.git', ALIAS),
      'http://gitlab-ci-token:tok@10.0.2.2:4000/g/p.git',
    );
  });

  it('leaves other hosts alone, including ones that merely start like loopback', () => {
    for (const url of [
      'https://gitlab.example.com/g/p.git',
      'http://127.0.0.10:80/',
      'http://localhost.example.com/',
      'http://user:127.0.0.1@gitlab.example.com/',
      'not a url',
    ]) {
      assert.equal(guestUrl(url, ALIAS), url);
    }
  });

  it('gives the guest repo_url, clone_url and the server variables on the alias', () => {
    const job = jobFrom('http://127.0.0.1:4567');
    const view = guestViewOf({ job, runner: makeRunner({ cloneUrl: 'http://localhost:4567' }), alias: ALIAS });
    assert.equal(view.job.git_info.repo_url, 'http://gitlab-ci-token:glcbt-64_secret@10.0.2.2:4567/acme/widget.git');
    assert.equal(view.runner.cloneUrl, 'http://10.0.2.2:4567');
    assert.equal(value(view.job, 'CI_SERVER_URL'), 'http://10.0.2.2:4567');
    assert.equal(value(view.job, 'CI_API_V4_URL'), 'http://10.0.2.2:4567/api/v4');
    assert.equal(value(view.job, 'CI_REPOSITORY_URL'), view.job.git_info.repo_url);
    assert.equal(value(view.job, 'CI_PROJECT_URL'), 'http://10.0.2.2:4567/acme/widget');
    assert.equal(value(view.job, 'CI_SERVER_HOST'), '10.0.2.2');
    assert.equal(value(view.job, 'CI_SERVER_PORT'), '4567');
    assert.deepEqual(view.gitRewrites, [
      { url: 'http://10.0.2.2:4567/', insteadOf: 'http://127.0.0.1:4567/' },
      { url: 'http://10.0.2.2:4567/', insteadOf: 'http://localhost:4567/' },
    ]);
  });

  it('never touches the job it was given: the API side keeps the real URLs', () => {
    const job = jobFrom('http://127.0.0.1:4567');
    const before = structuredClone(job);
    guestViewOf({ job, runner: makeRunner(), alias: ALIAS });
    assert.deepEqual(job, before);
  });

  it('changes nothing for a GitLab that is not on the loopback', () => {
    const job = jobFrom('https://gitlab.example.com');
    const runner = makeRunner();
    const view = guestViewOf({ job, runner, alias: ALIAS });
    assert.deepEqual(view.job, job);
    assert.equal(view.runner, runner);
    assert.deepEqual(view.gitRewrites, []);
  });
});
