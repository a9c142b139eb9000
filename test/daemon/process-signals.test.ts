// `tart run` as a real process: SIGQUIT lets the running job finish; SIGTERM cancels and reports it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { RUNNER_TOKEN, setUp, startTart } from './tart-process.js';

describe('tart run stop signals (real process)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-signals-',
      global: [
        'concurrent = 1',
        'check_interval = 1',
        'shutdown_timeout = 20',
        'listen_address = "127.0.0.1:0"',
      ],
      runners: ['signals'],
    }));
  });

  after(() => cleanup());

  it('SIGQUIT waits for the running job to finish, then exits 0', async () => {
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['echo working', 'sleep 3', 'echo finished work'],
    });
    const daemon = startTart(configPath);
    await fake.waitForJob(job.id, (j) => j.trace.toString().includes('working'), 30_000);
    daemon.process.kill('SIGQUIT');
    const code = await daemon.exitCode;
    const done = fake.job(job.id);
    assert.equal(code, 0, daemon.stderr());
    assert.equal(done.state, 'success');
    assert.match(done.trace.toString(), /finished work/);
    assert.equal(done.checksumOk, true);
    assert.doesNotMatch(daemon.stderr(), new RegExp(RUNNER_TOKEN));
  });

  it('SIGTERM cancels the running job and reports it failed before exiting', async () => {
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['echo working', 'sleep 60', 'echo never'],
    });
    const daemon = startTart(configPath);
    await fake.waitForJob(job.id, (j) => j.trace.toString().includes('working'), 30_000);
    const signaledAt = Date.now();
    daemon.process.kill('SIGTERM');
    await daemon.exitCode;
    const done = fake.job(job.id);
    assert.ok(Date.now() - signaledAt < 10_000, 'exited promptly');
    assert.equal(done.state, 'failed');
    assert.equal(done.failureReasonSent, 'runner_interrupted');
    assert.doesNotMatch(done.trace.toString(), /never/);
  });
});

describe('tart run-single (real process)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-single-',
      global: ['check_interval = 1'],
      runners: ['first', 'second'],
    }));
  });

  after(() => cleanup());

  it('--max-builds 1 runs one job of the named runner and exits 0', async () => {
    const first = fake.enqueueJob({ project: 'acme/widget', script: ['echo single run'] });
    const second = fake.enqueueJob({ project: 'acme/widget', script: ['echo left for later'] });
    const daemon = startTart(configPath, ['run-single', '--name', 'second', '--max-builds', '1']);
    assert.equal(await daemon.exitCode, 0, daemon.stderr());
    assert.equal(fake.job(first.id).state, 'success');
    assert.match(fake.job(first.id).trace.toString(), /on second /);
    assert.equal(fake.job(second.id).state, 'pending', 'the second job was not taken');
    fake.cancelJob(second.id);
  });

  it('--wait-timeout ends the wait for a first job', async () => {
    const started = Date.now();
    const daemon = startTart(configPath, ['run-single', '--name', 'first', '--wait-timeout', '2']);
    assert.equal(await daemon.exitCode, 0, daemon.stderr());
    assert.ok(Date.now() - started < 30_000);
  });

  it('refuses to guess when several runners are configured', async () => {
    const daemon = startTart(configPath, ['run-single', '--max-builds', '1']);
    assert.equal(await daemon.exitCode, 1);
    assert.match(daemon.stderr(), /choose one with --name/);
  });
});
