// A host whose TMPDIR is full: the job's trace cannot be buffered. The daemon says what failed,
// in its log and in the job's failure, instead of a silent script failure with a 0-byte trace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { setUp, startTart } from './tart-process.js';

describe('tart run with a full TMPDIR (real process, a 256 KiB tmpfs)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;
  let fullDir: string;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-fulltmp-',
      global: ['concurrent = 1', 'check_interval = 1', 'shutdown_timeout = 5'],
      runners: ['fulltmp'],
    }));
    fullDir = mkdtempSync(join(tmpdir(), 'tart-full-tmpdir-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', fullDir]);
  });

  after(async () => {
    execFileSync('umount', [fullDir]);
    rmSync(fullDir, { recursive: true, force: true });
    await cleanup();
  });

  it('fails the job as a system failure naming the temp dir, and logs it', async () => {
    const daemon = startTart(configPath, ['run'], { TMPDIR: fullDir });
    try {
      const job = fake.enqueueJob({ project: 'acme/widget', script: ['seq 1 200000'] });
      const done = await fake.waitForJob(
        job.id,
        (j) => j.state === 'success' || j.state === 'failed',
        60_000,
      );
      assert.equal(done.state, 'failed');
      assert.equal(done.failureReasonSent, 'runner_system_failure');
      assert.match(daemon.stderr(), new RegExp(`the job trace could not be stored in ${fullDir}.*ENOSPC`));
      assert.equal(daemon.process.exitCode, null, 'the daemon goes on');
    } finally {
      daemon.process.kill('SIGKILL');
      await daemon.exitCode;
    }
  });
});
