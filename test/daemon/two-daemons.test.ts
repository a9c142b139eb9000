// Two daemons against one GitLab with 10 queued jobs: every job runs exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startDaemon, type Harness } from './daemon-harness.js';

describe('two daemons sharing one GitLab', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;
  let daemons: Harness[] = [];

  before(async () => {
    fake = await startFakeGitLab({ longPollMs: 500 });
    repo = await createRepo({ files: { 'README.md': 'hi\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: 'glrt-first_daemon_token_1' });
    fake.addRunner({ token: 'glrt-second_daemon_token2' });
  });

  after(async () => {
    await Promise.all(daemons.map((daemon) => daemon.cleanup()));
    await fake.close();
    await repo.cleanup();
  });

  it('runs each of 10 queued jobs exactly once', async () => {
    const jobs = Array.from({ length: 10 }, (_, index) =>
      fake.enqueueJob({ project: 'acme/widget', script: [`echo "job marker ${index}"`] }),
    );
    daemons = await Promise.all([
      startDaemon({ url: fake.url, token: 'glrt-first_daemon_token_1', concurrent: 2, name: 'first' }),
      startDaemon({ url: fake.url, token: 'glrt-second_daemon_token2', concurrent: 2, name: 'second' }),
    ]);
    for (const job of jobs) await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 90_000);
    const ranBy = new Map<number, number>();
    for (const daemon of daemons) for (const id of daemon.printed.keys()) ranBy.set(id, (ranBy.get(id) ?? 0) + 1);
    for (const [index, job] of jobs.entries()) {
      const done = fake.job(job.id);
      assert.equal(done.state, 'success', done.trace.toString());
      assert.equal(ranBy.get(job.id), 1, `job ${job.id} ran ${ranBy.get(job.id)} times`);
      const markers = done.trace.toString().match(new RegExp(`^job marker ${index}\\b`, 'gm')) ?? [];
      assert.equal(markers.length, 1);
    }
    assert.ok(daemons.every((daemon) => daemon.printed.size > 0), 'both daemons took jobs');
    assert.deepEqual(fake.violations, []);
  });
});
