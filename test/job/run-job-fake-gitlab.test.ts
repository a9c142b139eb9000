// The engine on a payload exactly as GitLab sends it: parsed by the runner's own parser, cloned
// over smart HTTP from the fake GitLab with the job token, which must never reach the trace.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJobPayload } from '../../src/gitlab/parse-payload.js';
import { callApi, jobRequestBody, runnerFeatures } from '../support/fake-gitlab/client.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { createJobHarness, type JobHarness } from './support/job-harness.js';

const RUNNER_TOKEN = 'glrt-fake-runner-token';

describe('runJob on a GitLab payload', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;
  let harness: JobHarness;

  before(async () => {
    fake = await startFakeGitLab();
    repo = await createRepo({ files: { 'app.sh': 'echo "app ran"\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: RUNNER_TOKEN });
    harness = await createJobHarness();
  });

  after(async () => {
    await harness.cleanup();
    await repo.cleanup();
    await fake.close();
  });

  it('clones over HTTP with the job token, runs the script and never shows the token', async () => {
    const queued = fake.enqueueJob({ script: ['sh app.sh', 'echo "url=$CI_REPOSITORY_URL"'] });
    // The job token only works for git once a runner has taken the job, as on GitLab.
    const answer = await callApi(fake.url, {
      method: 'POST',
      path: 'api/v4/jobs/request',
      json: jobRequestBody(RUNNER_TOKEN, { features: runnerFeatures({ two_phase_job_commit: false }) }),
    });
    assert.equal(answer.status, 201);
    const parsed = parseJobPayload(answer.json);
    assert.ok(parsed.ok);
    const { outcome, trace } = await harness.run(parsed.job);
    assert.deepEqual(outcome, { state: 'success', message: 'Job succeeded' });
    assert.match(trace, /\napp ran\n/);
    assert.equal(trace.includes(queued.token), false, 'the job token is masked');
    assert.match(trace, /url=http:\/\/gitlab-ci-token:\[MASKED\]@127\.0\.0\.1/);
    const projectDir = join(harness.buildsDir, 'abcdefghi', '0', 'acme', 'widget');
    assert.equal((await readFile(join(projectDir, '.git', 'config'), 'utf8')).includes(queued.token), false);
  });
});
