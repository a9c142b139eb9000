// Two `tart run`s on one config.toml: a runner a reload adds is locked like the runners present at
// start, so only one daemon ever serves it (and uses its builds dir); the other says so in one line.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { RUNNER_TOKEN, setUp, startTart } from './tart-process.js';
import { waitFor } from '../support/wait-for.js';

describe('two tart run daemons on one config.toml (real processes)', () => {
  let dir: string;
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, cleanup } = await setUp({ prefix: 'tart-lock-', global: [], runners: [] }));
    dir = await mkdtemp(join(tmpdir(), 'tart-lock-config-'));
  });

  after(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets exactly one serve a runner added by reload; the other logs one refusal line', async () => {
    const configPath = join(dir, 'config.toml');
    const first = startTart(configPath);
    const second = startTart(configPath);
    try {
      for (const daemon of [first, second])
        await waitFor(
          () => /waiting for "tart register"/.test(daemon.stderr()),
          15_000,
          'both daemons to wait',
        );
      const runner = [
        'check_interval = 1',
        '[[runners]]',
        'name = "added"',
        `url = "${fake.url}"`,
        `token = "${RUNNER_TOKEN}"`,
        'executor = "shell"',
        `builds_dir = "${join(dir, 'builds')}"`,
        `cache_dir = "${join(dir, 'cache')}"`,
        '',
      ].join('\n');
      await writeFile(configPath, runner, { mode: 0o600 });
      first.process.kill('SIGHUP');
      second.process.kill('SIGHUP');
      const refusal =
        /runner "added" of \S+ is already served by another tart daemon \(pid \d+\); not serving it here/;
      await waitFor(
        () => [first, second].some((daemon) => refusal.test(daemon.stderr())),
        15_000,
        'one daemon to refuse the added runner',
      );
      const [serving, refusing] = refusal.test(first.stderr()) ? [second, first] : [first, second];
      const jobs = [1, 2, 3].map(() =>
        fake.enqueueJob({ project: 'acme/widget', script: ['echo from the one daemon'] }),
      );
      for (const job of jobs) {
        const done = await fake.waitForJob(
          job.id,
          (j) => j.state === 'success' || j.state === 'failed',
          30_000,
        );
        assert.equal(done.state, 'success');
      }
      // Later reloads try again and refuse again, one line each; the serving daemon is untouched.
      refusing.process.kill('SIGHUP');
      await waitFor(
        () => (refusing.stderr().match(new RegExp(refusal.source, 'g')) ?? []).length >= 2,
        15_000,
        'the refusal on the next reload',
      );
      assert.doesNotMatch(serving.stderr(), refusal);
      assert.match(serving.stderr(), /job started/);
      assert.doesNotMatch(refusing.stderr(), /job started|runner added/);
      assert.equal(serving.process.exitCode, null);
      assert.equal(refusing.process.exitCode, null);
      assert.deepEqual(fake.violations, []);
    } finally {
      first.process.kill('SIGTERM');
      second.process.kill('SIGTERM');
      await Promise.all([first.exitCode, second.exitCode]);
    }
  });
});
