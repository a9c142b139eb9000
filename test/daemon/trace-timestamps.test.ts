// FF_TIMESTAMPS through the daemon: the fake GitLab stores the raw timestamped bytes (checksum over
// them), and the flag resolves as gitlab-runner's IsFeatureFlagOn: [runners.feature_flags] over the
// job's variable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startDaemon, type Harness } from './daemon-harness.js';

const RUNNER_TOKEN = 'glrt-timestamps_test_token_01';
const HEADER = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]/;

describe('trace timestamps through the daemon', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;

  before(async () => {
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    repo = await createRepo({ files: { 'README.md': '# widget\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: RUNNER_TOKEN });
  });

  after(async () => {
    await fake.close();
    await repo.cleanup();
  });

  async function runWith(flagInConfig: boolean, flagInJob: string) {
    const harness: Harness = await startDaemon({
      url: fake.url,
      token: RUNNER_TOKEN,
      runnerToml: `[runners.feature_flags]\nFF_TIMESTAMPS = ${flagInConfig}`,
    });
    try {
      const job = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo "out from the job"', 'echo "err from the job" >&2'],
        variables: [{ key: 'FF_TIMESTAMPS', value: flagInJob, public: true, masked: false }],
      });
      const done = await fake.waitForJob(
        job.id,
        (j) => j.state === 'success' || j.state === 'failed',
        30_000,
      );
      assert.equal(done.state, 'success');
      assert.equal(done.checksumOk, true);
      assert.equal(done.bytesizeOk, true);
      assert.deepEqual(done.rawTrace, harness.printed.get(job.id));
      assert.deepEqual(fake.violations, []);
      return done;
    } finally {
      await harness.cleanup();
    }
  }

  it('sends timestamped lines when [runners.feature_flags] turns it on over the job’s "false"', async () => {
    const done = await runWith(true, 'false');
    const raw = done.rawTrace.toString();
    const lines = raw.split('\n').slice(0, -1);
    assert.ok(lines.length > 10);
    assert.ok(
      lines.every((line) => HEADER.test(line)),
      'every stored line starts with a header',
    );
    assert.match(raw, /Z 01O out from the job\n/);
    assert.match(raw, /Z 01E err from the job\n/);
    assert.match(
      raw,
      /Z 00O[ +]section_start:\d+:step_script\r\x1b\[0K\n\S+Z 00O\+\x1b\[0K\x1b\[36;1mExecuting "step_script"/,
    );
    // GitLab's page (the fake's view) shows the log without the headers.
    const shown = done.trace.toString();
    assert.match(shown, /^out from the job$/m);
    assert.doesNotMatch(shown, HEADER);
  });

  it('sends plain lines when [runners.feature_flags] turns it off over the job’s "true"', async () => {
    const done = await runWith(false, 'true');
    const raw = done.rawTrace.toString();
    assert.ok(raw.split('\n').every((line) => !HEADER.test(line)));
    assert.match(raw, /^out from the job$/m);
    assert.deepEqual(done.rawTrace, done.trace);
  });
});
