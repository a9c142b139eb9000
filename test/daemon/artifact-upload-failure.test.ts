// A job whose artifacts GitLab keeps refusing with 500: the daemon (real GitLab transport, real
// upload stage, gitlab-runner's own waits) makes at most 3 upload attempts, then fails the job.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startWidgetDaemon } from './daemon-harness.js';

const TOKEN = 'glrt-artifact_upload_failure_1';

describe('a job whose artifact upload always gets 500', () => {
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, cleanup } = await startWidgetDaemon({
      token: TOKEN,
      files: { 'README.md': 'widget\n' },
    }));
  });

  after(() => cleanup());

  it('makes 3 attempts, then the job fails instead of dropping the artifacts', async () => {
    fake.injectFault({ endpoint: 'artifacts-upload', kind: 'status', status: 500, count: 20 });
    const queued = fake.enqueueJob({
      project: 'acme/widget',
      script: ['mkdir -p dist', 'echo built > dist/out.txt'],
      artifacts: [
        {
          name: 'build',
          paths: ['dist/'],
          when: 'on_success',
          artifact_type: 'archive',
          artifact_format: 'zip',
          expire_in: '1 day',
          untracked: false,
        },
      ],
    });
    const done = await fake.waitForJob(
      queued.id,
      (j) => j.state === 'success' || j.state === 'failed',
      60_000,
    );
    const trace = done.trace.toString();
    assert.equal(done.state, 'failed', trace);
    const uploads = fake.requests.filter((r) => r.endpoint === 'artifacts-upload');
    assert.equal(uploads.length, 3, JSON.stringify(uploads));
    assert.equal(done.artifacts.get('archive'), undefined);
    assert.match(trace, /Job failed: uploading artifacts failed/);
    assert.equal(trace.match(/WARNING: Retrying\.\.\./g)?.length, 2, trace);
  });
});
