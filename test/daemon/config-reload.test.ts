// `tart run` as a real process reloads config.toml as gitlab-runner does: on SIGHUP and when the
// file changes. Running jobs keep going, added runners poll, removed ones stop, and a broken file
// keeps the config in effect with one log line.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { RUNNER_TOKEN, setUp, startTart } from './tart-process.js';
import { waitFor } from '../support/wait-for.js';

const SECOND_TOKEN = 'glrt-reload_second_runner_1';

function runnerToml(fake: FakeGitLab, dir: string, name: string, token: string): string {
  return [
    '',
    '[[runners]]',
    `name = "${name}"`,
    `url = "${fake.url}"`,
    `token = "${token}"`,
    'executor = "shell"',
    `builds_dir = "${join(dir, `builds-${name}`)}"`,
    `cache_dir = "${join(dir, 'cache')}"`,
    '',
  ].join('\n');
}

describe('tart run reloads config.toml (real process)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-reload-',
      global: ['concurrent = 4', 'check_interval = 1', 'shutdown_timeout = 10'],
      runners: ['first'],
    }));
    await appendFile(configPath, '\nlimit = 1\n');
    fake.addRunner({ token: SECOND_TOKEN });
  });

  after(() => cleanup());

  it('SIGHUP mid-job: the job succeeds, the daemon lives, an appended runner polls within one check interval', async () => {
    const daemon = startTart(configPath);
    try {
      const long = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo working', 'sleep 4', 'echo finished work'],
      });
      await fake.waitForJob(long.id, (j) => j.trace.toString().includes('working'), 30_000);
      await appendFile(configPath, runnerToml(fake, dirname(configPath), 'second', SECOND_TOKEN));
      daemon.process.kill('SIGHUP');
      const signaledAt = Date.now();
      // `first` is busy (limit = 1): only the new runner can take this job.
      const next = fake.enqueueJob({ project: 'acme/widget', script: ['echo from the new runner'] });
      await fake.waitForJob(next.id, (j) => j.assignedTo !== undefined, 10_000);
      const pickedUpMs = Date.now() - signaledAt;
      assert.equal(fake.job(next.id).assignedTo?.runnerToken, SECOND_TOKEN);
      assert.ok(pickedUpMs < 1000 + 1500, `the new runner took a job ${pickedUpMs} ms after SIGHUP`);
      const done = await fake.waitForJob(
        long.id,
        (j) => j.state === 'success' || j.state === 'failed',
        30_000,
      );
      assert.equal(done.state, 'success');
      assert.match(done.trace.toString(), /finished work/);
      assert.equal((await fake.waitForJob(next.id, (j) => j.state === 'success', 30_000)).state, 'success');
      assert.equal(daemon.process.exitCode, null, 'the daemon still runs');
      assert.match(daemon.stderr(), /configuration reloaded/);

      // A broken edit (no signal: the file watcher sees it): one error line, the old config stays.
      await appendFile(configPath, '\n[[runners]\nname = "broken"\n');
      await waitFor(
        () => /config reload failed/.test(daemon.stderr()),
        8_000,
        'the failed reload to be logged',
      );
      const failures = daemon
        .stderr()
        .split('\n')
        .filter((line) => line.includes('config reload failed'));
      assert.equal(failures.length, 1, daemon.stderr());
      assert.match(failures[0] ?? '', /keeping the current config: .*config\.toml:\d+:\d+/);
      const after = fake.enqueueJob({ project: 'acme/widget', script: ['echo still serving'] });
      assert.equal((await fake.waitForJob(after.id, (j) => j.state === 'success', 30_000)).state, 'success');
      assert.doesNotMatch(daemon.stderr(), new RegExp(`${RUNNER_TOKEN}|${SECOND_TOKEN}`));
    } finally {
      daemon.process.kill('SIGTERM');
      await daemon.exitCode;
    }
  });
});

describe('tart run without a config file (real process)', () => {
  let dir: string;
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, cleanup } = await setUp({ prefix: 'tart-empty-', global: [], runners: [] }));
    dir = await mkdtemp(join(tmpdir(), 'tart-noconfig-'));
  });

  after(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, waits, and picks up a runner registered later', async () => {
    const configPath = join(dir, 'config.toml');
    const daemon = startTart(configPath);
    try {
      await waitFor(() => /waiting for "tart register"/.test(daemon.stderr()), 15_000, 'the daemon to wait');
      assert.equal(daemon.process.exitCode, null);
      await writeFile(configPath, `check_interval = 1\n${runnerToml(fake, dir, 'late', RUNNER_TOKEN)}`, {
        mode: 0o600,
      });
      const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo registered later'] });
      const done = await fake.waitForJob(
        job.id,
        (j) => j.state === 'success' || j.state === 'failed',
        30_000,
      );
      assert.equal(done.state, 'success');
    } finally {
      daemon.process.kill('SIGTERM');
      await daemon.exitCode;
    }
  });
});
