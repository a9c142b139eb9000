// The daemon end to end with executor = "qemu": the fake GitLab on loopback (Tart rewrites its
// URLs to 10.0.2.2 for the user-mode guest), a real repo cloned inside each VM,
// artifacts and cache carried from one VM to the next, exit codes, cancel, timeout, and two
// jobs in two VMs at once.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { release } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { ImageManifest } from '../../src/image/layout.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  listFilesBelow,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from '../executor/vm/support/vm-test-env.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startQemuDaemon, type QemuDaemonHarness } from './qemu-daemon-harness.js';
import { waitFor } from '../support/wait-for.js';

const RUNNER_TOKEN = 'glrt-qemu_e2e_token_0001';
const FINAL = ['success', 'failed', 'canceled'];
/** Long enough for a loaded 2-core host to boot the VM under TCG and start the script. */
const TIMEOUT_S = 90;

describe('tart run with the QEMU executor against the fake GitLab', () => {
  let manifest: ImageManifest;
  let runtimeRoot: string;
  let fake: FakeGitLab;
  let repo: TestRepo;
  let harness: QemuDaemonHarness;
  let producerId = 0;

  before(async () => {
    manifest = await requireImage();
    runtimeRoot = await createTestRuntimeRoot('qemu-daemon');
    // The daemon's executor takes its runtime root from the environment (see the report).
    process.env.TART_RUNTIME_DIR = runtimeRoot;
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    repo = await createRepo({
      files: {
        'README.md': '# widget in a VM\n',
        'build.sh': 'mkdir -p out && echo "built from $(cat README.md)" > out/result.txt\n',
      },
    });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: RUNNER_TOKEN });
    harness = await startQemuDaemon({
      url: fake.url,
      token: RUNNER_TOKEN,
      concurrent: 2,
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

  it('runs two jobs in two VMs at once: one clones, builds, uploads artifacts and cache; one exits 7', async (t) => {
    // Each script waits at a host-side barrier (reached from the guest through slirp's 10.0.2.2)
    // until the other arrives: it only passes when both jobs run at the same time.
    const barrier = await startBarrier(2);
    const meet = (name: string) => `curl -fsS --max-time 280 http://10.0.2.2:${barrier.port}/${name}`;
    const producer = fake.enqueueJob({
      image: null, // Tart's own root: these jobs name no container image
      project: 'acme/widget',
      script: [
        'echo "SCRIPT-START $(hostname)"',
        'echo "guest kernel $(uname -r)"',
        'git log -1 --format=%H',
        'sh build.sh',
        'mkdir -p vendor && echo "cached by the first job" > vendor/dep.txt',
        meet('producer'),
      ],
      artifacts: [
        {
          name: 'build',
          paths: ['out/'],
          when: 'on_success',
          expire_in: '1 day',
          artifact_type: 'archive',
          artifact_format: 'zip',
        },
      ],
      cache: [{ key: 'deps', paths: ['vendor/'], policy: 'pull-push', when: 'on_success' }],
    });
    producerId = producer.id;
    const failing = fake.enqueueJob({
      image: null, // Tart's own root: these jobs name no container image
      project: 'acme/widget',
      script: [
        'echo "SCRIPT-START $(hostname)"',
        'echo "guest kernel $(uname -r)"',
        meet('failing'),
        'exit 7',
        'echo never',
      ],
    });
    let mostVms = 0;
    const watch = setInterval(
      () =>
        void qemuProcessesMentioning(runtimeRoot).then((vms) => (mostVms = Math.max(mostVms, vms.length))),
      200,
    );
    let done;
    let failed;
    try {
      [done, failed] = await Promise.all([
        fake.waitForJob(producer.id, (j) => FINAL.includes(j.state), 400_000),
        fake.waitForJob(failing.id, (j) => FINAL.includes(j.state), 400_000),
      ]);
    } finally {
      clearInterval(watch);
      await barrier.close();
    }
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.equal(done.checksumOk, true);
    assert.match(trace, new RegExp(`guest kernel ${escape(manifest.kernelRelease)}`));
    assert.doesNotMatch(
      trace,
      new RegExp(`guest kernel ${escape(release())}\\b`),
      'the script ran in the guest kernel, not the host one',
    );
    assert.match(
      trace,
      new RegExp(`\n${repo.head()}`),
      'the job cloned the repo at the pipeline sha inside the VM',
    );
    assert.ok(done.artifacts.get('archive'), 'the artifacts archive was uploaded');

    assert.equal(failed.state, 'failed', failed.trace.toString());
    assert.equal(failed.failureReason, 'script_failure');
    assert.equal(failed.exitCode, 7);
    assert.match(failed.trace.toString(), new RegExp(`guest kernel ${escape(manifest.kernelRelease)}`));
    assert.doesNotMatch(failed.trace.toString(), /never/);

    // Both scripts were inside their VMs at once: the barrier saw both before releasing either.
    const arrivals = barrier.arrivals();
    assert.deepEqual([...arrivals.keys()].sort(), ['failing', 'producer']);
    const released = barrier.releasedAt();
    assert.ok(released !== undefined && [...arrivals.values()].every((at) => at <= released));
    t.diagnostic(
      `barrier arrivals (ms before release): ${[...arrivals].map(([name, at]) => `${name} ${released - at}`).join(', ')}`,
    );
    assert.match(trace, /\ntogether\n/);
    assert.equal(mostVms, 2, 'two qemu processes ran at the same time');
    assert.notEqual(hostnameIn(trace), hostnameIn(failed.trace.toString()), 'each job had its own VM');
  });

  it("gives a second job (a fresh VM) the first job's artifacts and restores its cache", async () => {
    assert.ok(producerId > 0, 'the first test ran');
    const consumer = fake.enqueueJob({
      image: null, // Tart's own root: these jobs name no container image
      project: 'acme/widget',
      dependencies: [producerId],
      script: ['echo "SCRIPT-START $(hostname)"', 'cat out/result.txt', 'cat vendor/dep.txt', 'uname -r'],
      cache: [{ key: 'deps', paths: ['vendor/'], policy: 'pull', when: 'on_success' }],
    });
    const done = await fake.waitForJob(consumer.id, (j) => FINAL.includes(j.state), 300_000);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\nbuilt from # widget in a VM/);
    assert.match(trace, /\ncached by the first job/);
    assert.match(trace, new RegExp(`\n${escape(manifest.kernelRelease)}`));
    assert.notEqual(hostnameIn(trace), hostnameIn(fake.job(producerId).trace.toString()), 'a different VM');
  });

  it('leaves no VM within 2 s of a cancel, nor of a timeout', async (t) => {
    const canceled = fake.enqueueJob({
      image: null, // Tart's own root: these jobs name no container image
      project: 'acme/widget',
      script: ['echo started-to-cancel', 'sleep 300'],
    });
    const timedOut = fake.enqueueJob({
      image: null, // Tart's own root: these jobs name no container image
      project: 'acme/widget',
      script: ['echo started-to-time-out', 'sleep 300'],
      timeout: TIMEOUT_S,
    });
    const vmOf = (id: number) => `${runtimeRoot}/job${id}-`;
    const gone = async (id: number) =>
      (await qemuProcessesMentioning(vmOf(id))).length === 0 &&
      !(await listFilesBelow(runtimeRoot)).some((name) => name.startsWith(`job${id}-`));

    await fake.waitForJob(canceled.id, (j) => j.trace.toString().includes('\nstarted-to-cancel'), 300_000);
    assert.equal(await gone(canceled.id), false, "the job's VM runs");
    const canceledAt = Date.now();
    fake.cancelJob(canceled.id, { graceful: false });
    await waitFor(() => gone(canceled.id), 10_000, "the canceled job's VM to go");
    const cancelMs = Date.now() - canceledAt;
    t.diagnostic(`VM gone ${cancelMs} ms after the cancel`);
    assert.ok(cancelMs < 2000, `VM gone ${cancelMs} ms after the cancel`);
    assert.equal(fake.job(canceled.id).state, 'canceled');

    // The job's clock starts with its first trace chunk; the timeout fires TIMEOUT_S later, whether
    // or not a loaded host has booted the VM far enough to start the script by then.
    await waitFor(() => harness.chunks.get(timedOut.id)?.[0] !== undefined, 300_000, 'the timed-out job to start');
    const jobStartedAt = harness.chunks.get(timedOut.id)![0]!.at;
    const timeoutAt = jobStartedAt + TIMEOUT_S * 1000;
    await waitFor(
      async () => !(await gone(timedOut.id)),
      Math.max(0, timeoutAt - 1000 - Date.now()),
      "the timed-out job's VM to start before its timeout",
    );
    await waitFor(() => Date.now() > timeoutAt, TIMEOUT_S * 1000 + 10_000, 'the job timeout');
    await waitFor(() => gone(timedOut.id), 10_000, "the timed-out job's VM to go");
    const timeoutMs = Date.now() - timeoutAt;
    const failed = await fake.waitForJob(timedOut.id, (j) => FINAL.includes(j.state), 30_000);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.failureReason, 'job_execution_timeout');
    const scriptStarted = failed.trace.toString().includes('\nstarted-to-time-out');
    t.diagnostic(`VM gone ${timeoutMs} ms after the timeout fired (script had ${scriptStarted ? '' : 'not '}started)`);
    assert.ok(timeoutMs < 2000, `VM gone ${timeoutMs} ms after the timeout fired`);
  });

  it('keeps the protocol clean and never logs a token', async () => {
    await waitFor(() => harness.daemon.runningJobCount === 0, 10_000, 'the daemon to be idle');
    assert.deepEqual(fake.violations, []);
    assert.doesNotMatch(harness.logs(), new RegExp(RUNNER_TOKEN));
    assert.doesNotMatch(harness.logs(), /glcbt-[A-Za-z0-9_-]{8,}/);
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), []);
    assert.deepEqual(await listFilesBelow(runtimeRoot), []);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hostnameIn(trace: string): string | undefined {
  return /SCRIPT-START (runner-\S+)/.exec(trace)?.[1];
}

// An HTTP barrier on host loopback: GET /<name> blocks until `parties` names have arrived.
async function startBarrier(parties: number) {
  const arrivals = new Map<string, number>();
  const waiting: Array<() => void> = [];
  let releasedAt: number | undefined;
  const server = createServer((request, response) => {
    arrivals.set((request.url ?? '/').slice(1), Date.now());
    waiting.push(() => response.end('together\n'));
    if (arrivals.size >= parties) {
      releasedAt = Date.now();
      for (const answer of waiting.splice(0)) answer();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    arrivals: () => arrivals,
    releasedAt: () => releasedAt,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
