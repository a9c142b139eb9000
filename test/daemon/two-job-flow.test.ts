// Two jobs through the daemon with the shell executor: job 2 gets job 1's artifacts as a
// dependency (downloaded from the fake GitLab) and restores the cache job 1 saved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startWidgetDaemon } from './daemon-harness.js';

const TOKEN = 'glrt-two_job_flow_token_1';

describe('a two-job flow: artifacts as a dependency and a shared cache', () => {
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, cleanup } = await startWidgetDaemon({
      token: TOKEN,
      files: { 'src/app.sh': 'echo "app v1"\n' },
    }));
  });

  after(() => cleanup());

  it('job 2 sees job 1’s artifacts and restores its cache', async () => {
    const cache = [{ key: 'deps-main', paths: ['.deps/'], policy: 'pull-push' as const, when: 'on_success' as const, untracked: false }];
    const first = fake.enqueueJob({
      project: 'acme/widget',
      script: ['mkdir -p dist .deps', 'sh src/app.sh > dist/out.txt', 'echo "cached by job 1" > .deps/tool'],
      artifacts: [{ name: 'build', paths: ['dist/'], when: 'on_success', artifact_type: 'archive', artifact_format: 'zip', expire_in: '1 day', untracked: false }],
      cache,
    });
    const built = await fake.waitForJob(first.id, (j) => j.state === 'success' || j.state === 'failed', 60_000);
    assert.equal(built.state, 'success', built.trace.toString());
    assert.ok(built.artifacts.get('archive'), 'job 1 uploaded an archive');

    const second = fake.enqueueJob({
      project: 'acme/widget',
      script: ['cat dist/out.txt', 'cat .deps/tool'],
      dependencies: [first.id],
      cache,
    });
    const done = await fake.waitForJob(second.id, (j) => j.state === 'success' || j.state === 'failed', 60_000);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /Downloading artifacts for /);
    assert.match(trace, /^app v1$/m);
    assert.match(trace, /^cached by job 1$/m);
    assert.match(trace, /Successfully extracted cache/);
    assert.deepEqual(fake.violations, []);
  });
});
