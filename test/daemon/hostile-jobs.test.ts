// `tart run` as a real process facing a hostile job: a corrupt dependency archive fails that
// job only, and stray signals do not end the daemon without final updates.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SIGNAL_ACTIONS } from '../../src/daemon/signals.js';
import { buildZip } from '../artifacts/handmade-zip.js';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { setUp, startTart } from './tart-process.js';

const finished = (state: string) => state === 'success' || state === 'failed';

describe('tart run facing hostile jobs (real process)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-hostile-',
      global: ['concurrent = 2', 'check_interval = 1', 'shutdown_timeout = 10'],
      runners: ['hostile'],
    }));
  });

  after(() => cleanup());

  it('a dependency entry that inflates past its size fails only its job; the daemon keeps polling', async () => {
    const bomb = fake.addFinishedJob({
      name: 'compile',
      archive: buildZip([
        { name: 'ok.txt', data: 'fine' },
        { name: 'bomb.bin', data: 'x'.repeat(4 << 20), deflate: true, declaredSize: 16 },
      ]),
    });
    const badCrc = fake.addFinishedJob({
      name: 'lint',
      archive: buildZip([{ name: 'bad.txt', data: 'payload', declaredCrc: 0x1234 }]),
    });
    const daemon = startTart(configPath);
    try {
      const neighbour = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo neighbour up', 'sleep 4', 'echo neighbour done'],
      });
      await fake.waitForJob(neighbour.id, (j) => j.trace.toString().includes('neighbour up'), 30_000);
      const victim = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo never'],
        dependencies: [bomb.id],
      });
      const failed = await fake.waitForJob(victim.id, (j) => finished(j.state), 30_000);
      assert.equal(failed.state, 'failed');
      assert.match(failed.trace.toString(), /corrupt zip entry bomb\.bin: more data than its declared size/);
      assert.doesNotMatch(failed.trace.toString(), /^never$/m);

      const done = await fake.waitForJob(neighbour.id, (j) => finished(j.state), 30_000);
      assert.equal(done.state, 'success', done.trace.toString());
      assert.match(done.trace.toString(), /neighbour done/);

      const second = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo never'],
        dependencies: [badCrc.id],
      });
      assert.equal((await fake.waitForJob(second.id, (j) => finished(j.state), 30_000)).state, 'failed');
      assert.match(fake.job(second.id).trace.toString(), /corrupt zip entry bad\.txt: CRC-32 mismatch/);
      const later = fake.enqueueJob({ project: 'acme/widget', script: ['echo still polling'] });
      assert.equal((await fake.waitForJob(later.id, (j) => finished(j.state), 30_000)).state, 'success');
      assert.equal(daemon.process.exitCode, null, daemon.stderr());
      assert.doesNotMatch(daemon.stderr(), /BUG:/, 'handled by the job, not by the process guard');
      assert.deepEqual(fake.violations, []);
    } finally {
      daemon.process.kill('SIGKILL');
      await daemon.exitCode;
    }
  });

  it('a shell job starts from a clean environment, without the daemon’s CI_SERVER_TOKEN', async () => {
    const daemon = startTart(configPath, ['run'], {
      CI_SERVER_TOKEN: 'glrt-daemon_env_secret_01',
      REGISTRATION_TOKEN: 'GR1348941daemon_env_secret',
      TART_SOMETHING: 'internal',
    });
    try {
      const job = fake.enqueueJob({
        project: 'acme/widget',
        script: ['env | sort', 'echo "path=$PATH home=$HOME"'],
      });
      const done = await fake.waitForJob(job.id, (j) => finished(j.state), 30_000);
      const trace = done.trace.toString();
      assert.equal(done.state, 'success', trace);
      assert.doesNotMatch(
        trace,
        /daemon_env_secret|REGISTRATION_TOKEN|CI_SERVER_TOKEN|TART_SOMETHING|TART_FROM_SOURCE/,
      );
      assert.match(trace, /^path=\S*\/usr\/bin\S* home=\//m);
    } finally {
      daemon.process.kill('SIGKILL');
      await daemon.exitCode;
    }
  });

  it('a second daemon on the same config is refused with a clear error; a killed one’s lock is taken over', async () => {
    const first = startTart(configPath);
    try {
      const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo first daemon'] });
      assert.equal((await fake.waitForJob(job.id, (j) => finished(j.state), 30_000)).state, 'success');
      const second = startTart(configPath);
      assert.equal(await second.exitCode, 1);
      assert.match(
        second.stderr(),
        new RegExp(
          `runner "hostile" of .* is already served by another tart daemon \\(pid ${first.process.pid}\\)`,
        ),
      );
      assert.doesNotMatch(second.stderr(), /\n\s+at /, 'no stack trace');
      assert.equal(first.process.exitCode, null, 'the first daemon goes on');
    } finally {
      first.process.kill('SIGKILL');
      await first.exitCode;
    }
    const third = startTart(configPath);
    try {
      const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo third daemon'] });
      assert.equal((await fake.waitForJob(job.id, (j) => finished(j.state), 30_000)).state, 'success');
    } finally {
      third.process.kill('SIGKILL');
      await third.exitCode;
    }
  });

  it('signals that would end a Node process are ignored while a job runs; SIGXCPU stops with final updates', async () => {
    const ignored = Object.entries(SIGNAL_ACTIONS)
      .filter(([, action]) => action === 'ignore')
      .map(([signal]) => signal as NodeJS.Signals);
    assert.ok(ignored.includes('SIGUSR2') && ignored.includes('SIGPIPE') && ignored.includes('SIGALRM'));
    const daemon = startTart(configPath);
    try {
      const job = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo working', 'sleep 3', 'echo survived'],
      });
      await fake.waitForJob(job.id, (j) => j.trace.toString().includes('working'), 30_000);
      for (const signal of ignored) {
        daemon.process.kill(signal);
        await delay(20);
      }
      const done = await fake.waitForJob(job.id, (j) => finished(j.state), 30_000);
      assert.equal(done.state, 'success', daemon.stderr());
      assert.match(done.trace.toString(), /survived/);
      assert.equal(daemon.process.exitCode, null, 'still running');
      assert.match(daemon.stderr(), /received SIGUSR2: ignored/);

      const long = fake.enqueueJob({ project: 'acme/widget', script: ['echo long job', 'sleep 60'] });
      await fake.waitForJob(long.id, (j) => j.trace.toString().includes('long job'), 30_000);
      daemon.process.kill('SIGXCPU');
      await daemon.exitCode;
      assert.equal(fake.job(long.id).state, 'failed');
      assert.equal(fake.job(long.id).failureReasonSent, 'runner_interrupted');
    } finally {
      daemon.process.kill('SIGKILL');
      await daemon.exitCode;
    }
  });
});
