// Slow (boots a real QEMU VM under TCG; run under `flock /tmp/tart-vm.lock`): a job's QEMU runs
// under its seccomp sandbox with NoNewPrivs, and the job still clones and runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from '../executor/vm/support/vm-test-env.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startQemuDaemon, type QemuDaemonHarness } from './qemu-daemon-harness.js';
import { waitFor } from '../support/wait-for.js';

const RUNNER_TOKEN = 'glrt-qemu_sandbox_token_01';

describe('the QEMU sandbox (real VM)', () => {
  let runtimeRoot: string;
  let fake: FakeGitLab;
  let repo: TestRepo;
  let harness: QemuDaemonHarness;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('qemu-sandbox');
    process.env.TART_RUNTIME_DIR = runtimeRoot;
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    repo = await createRepo({ files: { 'README.md': 'sandboxed\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: RUNNER_TOKEN });
    harness = await startQemuDaemon({
      url: fake.url,
      token: RUNNER_TOKEN,
      concurrent: 1,
      imageDir: IMAGE_DIR,
      runtimeRoot,
    });
  });

  after(async () => {
    await harness?.cleanup();
    await fake?.close();
    await repo?.cleanup();
    if (runtimeRoot) await removeTestRuntimeRoot(runtimeRoot);
  });

  it('QEMU has seccomp in filter mode and NoNewPrivs while the job runs', async () => {
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: null,
      script: ['cat README.md', 'echo job-started', 'sleep 8'],
    });
    await fake
      .waitForJob(
        job.id,
        (j) => j.trace.toString().includes('job-started') || ['success', 'failed'].includes(j.state),
        240_000,
      )
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n${harness.logs().slice(-3000)}`);
      });
    assert.match(
      fake.job(job.id).trace.toString(),
      /job-started/,
      `${fake.job(job.id).trace.toString()}\n${harness.logs().slice(-3000)}`,
    );
    const [qemu] = await qemuProcessesMentioning(runtimeRoot);
    assert.ok(qemu, 'a qemu process runs the job');
    assert.ok(qemu.argv.includes('-sandbox'));
    const status = readFileSync(`/proc/${qemu.pid}/status`, 'utf8');
    assert.match(status, /^Seccomp:\s+2$/m, 'seccomp filter mode');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    const done = await fake.waitForJob(job.id, (j) => ['success', 'failed'].includes(j.state), 120_000);
    assert.equal(done.state, 'success', done.trace.toString());
    assert.match(done.trace.toString(), /^sandboxed$/m);
    await waitFor(
      async () => (await qemuProcessesMentioning(runtimeRoot)).length === 0,
      10_000,
      'the VM is gone',
    );
  });
});
