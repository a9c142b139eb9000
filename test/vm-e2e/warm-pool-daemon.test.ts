// The warm pool in the real `tart run` process, with QEMU guests under TCG: with idle_count = 1 a
// job runs in the VM the pool booted before the job came (its trace says so, /metrics counted it
// idle); SIGQUIT then leaves no VM (the refill boot included); the pooled VMs of a daemon
// killed with SIGKILL are reaped by the next daemon at its start; and a reload resizes the pool in
// place (idle_count 1 → 2 keeps the ready VM and boots one more; 2 → 0 destroys both).
// Boots five VMs under TCG (slow): run under `flock /tmp/tart-vm.lock`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listPooledVms } from '../../src/executor/vm/pool/pooled-vms.js';
import { startTart } from '../daemon/tart-process.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  listFilesBelow,
  processIsAlive,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from '../executor/vm/support/vm-test-env.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { waitFor } from '../support/wait-for.js';

const RUNNER_TOKEN = 'glrt-warm_pool_token_0001';
const BOOT_MS = 240_000;

describe('tart run with a warm pool (real guests under TCG)', () => {
  let runtimeRoot: string;
  let dir: string;
  let fake: FakeGitLab;

  before(async () => {
    await requireImage();
    runtimeRoot = await createTestRuntimeRoot('warm-pool-daemon');
    dir = await mkdtemp(join(tmpdir(), 'tart-warm-pool-'));
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    fake.addRunner({ token: RUNNER_TOKEN });
  });

  after(async () => {
    // A failed assertion skips a test's own stop: kill its daemon before its VMs, so none is refilled.
    for (const daemon of daemons) if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
    await Promise.all(daemons.map((daemon) => daemon.exitCode));
    await fake?.close();
    for (const vm of await qemuProcessesMentioning(runtimeRoot)) process.kill(vm.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await removeTestRuntimeRoot(runtimeRoot);
  });

  async function writeConfig(name: string, idleCount: number, port: number): Promise<string> {
    const path = join(dir, `${name}.toml`);
    const toml = [
      'concurrent = 2',
      'check_interval = 1',
      'shutdown_timeout = 60',
      `listen_address = "127.0.0.1:${port}"`,
      '[[runners]]',
      `name = "${name}"`,
      `url = "${fake.url}"`,
      `token = "${RUNNER_TOKEN}"`,
      'executor = "qemu"',
      `cache_dir = "${join(dir, 'cache')}"`,
      '[runners.vm]',
      `image = "${IMAGE_DIR}"`,
      'vcpus = 1',
      'memory_mb = 512',
      'disk_size_mb = 1024',
      'boot_timeout = 240',
      `idle_count = ${idleCount}`,
      // No nftables in the machine's own namespace from this test (test/vm-e2e/qemu-host-guard.test.ts covers the guard).
      'host_guard = false',
    ].join('\n');
    await writeFile(path, toml, { mode: 0o600 });
    return path;
  }

  const daemons: Array<ReturnType<typeof startTart>> = [];
  function startDaemon(configPath: string) {
    const daemon = startTart(configPath, ['run'], { TART_RUNTIME_DIR: runtimeRoot });
    daemons.push(daemon);
    return daemon;
  }

  it('runs a job in the pooled VM, shows the pool in /metrics, and SIGQUIT leaves no VM', async () => {
    const port = 19000 + (process.pid % 500);
    const tart = startDaemon(await writeConfig('pool-e2e', 1, port));
    await waitFor(
      async () => (await listPooledVms(runtimeRoot)).some((vm) => vm.state === 'idle'),
      BOOT_MS,
      `a pooled VM to be ready; daemon log:\n${tart.stderr()}`,
    );
    const [pooled] = await listPooledVms(runtimeRoot);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /tart_pool_vms\{runner="pool-e2e",state="idle"\} 1\b/);
    assert.match(metrics, /tart_pool_vms\{runner="pool-e2e",state="in_use"\} 0\b/);

    const job = fake.enqueueJob({
      image: null, // Tart's own root: the pool warms the default root, and nothing is pulled
      script: ['echo "in $(hostname)"'],
      variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }],
    });
    const done = await fake.waitForJob(job.id, (j) => ['success', 'failed'].includes(j.state), BOOT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, new RegExp(`Using pooled VM ${pooled?.vmId}`), 'the job took the pooled VM');
    assert.match(trace, new RegExp(`in runner-${pooled?.vmId}`), 'its script ran in that VM');
    assert.doesNotMatch(trace, /Starting VM/, 'no VM was booted for the job');

    tart.process.kill('SIGQUIT');
    assert.equal(await tart.exitCode, 0, tart.stderr());
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), [], 'SIGQUIT leaves no QEMU');
    assert.deepEqual(await listFilesBelow(runtimeRoot), [], 'SIGQUIT leaves no runtime dir');
  });

  it('resizes the pool in place on reload: 1 → 2 keeps the ready VM and boots one, 2 → 0 destroys both', async (t) => {
    const port = 18500 + (process.pid % 400);
    const configPath = await writeConfig('pool-resize', 1, port);
    const started = Date.now();
    const tart = startDaemon(configPath);
    const idleOnHost = async () => (await listPooledVms(runtimeRoot)).filter((vm) => vm.state === 'idle');
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await waitFor(async () => (await idleOnHost()).length === 1, BOOT_MS, () => `a pooled VM; daemon log:\n${tart.stderr()}`);
    const firstBootMs = Date.now() - started;
    const [first] = await idleOnHost();
    const [firstQemu] = await qemuProcessesMentioning(runtimeRoot);

    await writeConfig('pool-resize', 2, port);
    const grown = Date.now();
    tart.process.kill('SIGHUP');
    await waitFor(async () => (await idleOnHost()).length === 2, BOOT_MS, () => `a second pooled VM; daemon log:\n${tart.stderr()}`);
    const growMs = Date.now() - grown;
    assert.match(tart.stderr(), /runner reloaded in place/);
    assert.ok((await idleOnHost()).some((vm) => vm.vmId === first?.vmId), 'the VM ready before the reload is still pooled');
    const qemus = await qemuProcessesMentioning(runtimeRoot);
    assert.equal(qemus.length, 2, 'one more QEMU, no replacement');
    assert.ok(qemus.some((vm) => vm.pid === firstQemu?.pid), 'the first VM is the same QEMU process');
    const full = await metrics();
    assert.match(full, /tart_pool_vms\{runner="pool-resize",state="idle"\} 2\b/);
    assert.match(full, /tart_pool_vms\{runner="pool-resize",state="booting"\} 0\b/);

    await writeConfig('pool-resize', 0, port);
    const shrunk = Date.now();
    tart.process.kill('SIGHUP');
    await waitFor(async () => (await qemuProcessesMentioning(runtimeRoot)).length === 0, 60_000, () => `the pooled VMs to be destroyed; daemon log:\n${tart.stderr()}`);
    const shrinkMs = Date.now() - shrunk;
    await waitFor(async () => (await listFilesBelow(runtimeRoot)).length === 0, 10_000, 'their runtime dirs to be removed');
    const empty = await metrics();
    assert.match(empty, /tart_pool_vms\{runner="pool-resize",state="idle"\} 0\b/);
    assert.match(empty, /tart_pool_vms\{runner="pool-resize",state="booting"\} 0\b/);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), [], 'idle_count = 0: nothing boots again');
    t.diagnostic(`first pooled VM ${firstBootMs} ms after start; 1 → 2 ready ${growMs} ms after SIGHUP; 2 → 0 gone ${shrinkMs} ms after SIGHUP`);

    tart.process.kill('SIGQUIT');
    assert.equal(await tart.exitCode, 0, tart.stderr());
  });

  it("reaps a SIGKILLed daemon's pooled VMs at the next start", async () => {
    const port = 19500 + (process.pid % 400);
    const killed = startDaemon(await writeConfig('pool-killed', 1, port));
    await waitFor(
      async () => (await listPooledVms(runtimeRoot)).some((vm) => vm.state === 'idle'),
      BOOT_MS,
      `a pooled VM to be ready; daemon log:\n${killed.stderr()}`,
    );
    const orphans = await qemuProcessesMentioning(runtimeRoot);
    assert.equal(orphans.length, 1, 'one pooled VM runs');
    killed.process.kill('SIGKILL');
    await killed.exitCode;
    assert.ok(orphans.every((vm) => processIsAlive(vm.pid)), 'SIGKILL leaves the pooled VM running');
    const [left] = await listPooledVms(runtimeRoot);
    assert.equal(left?.ownerAlive, false, 'its handle names a dead owner');

    const next = startDaemon(await writeConfig('pool-next', 0, port + 1));
    await waitFor(
      () => next.stderr().includes('reaped VMs left by a previous runner'),
      60_000,
      `the next daemon to reap; its log:\n${next.stderr()}`,
    );
    await waitFor(() => orphans.every((vm) => !processIsAlive(vm.pid)), 10_000, 'the orphan QEMU to die');
    assert.deepEqual(await listFilesBelow(runtimeRoot), [], 'its runtime dir is removed');
    next.process.kill('SIGQUIT');
    assert.equal(await next.exitCode, 0, next.stderr());
  });
});
