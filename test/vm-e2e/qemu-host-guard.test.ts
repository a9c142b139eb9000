// issue #14 point 1, end to end: with network = "user" and the host guard (the default), a job in
// a real QEMU VM (TCG) cannot reach a service on the host's loopback nor Tart's metrics port, yet
// clones from a GitLab configured as http://127.0.0.1:PORT with no clone_url and still reaches
// the world. Everything runs in network namespaces this test creates: the "host" one holds the
// fake GitLab, the servers, the daemon and its QEMU; "outside" stands for the internet.
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  IMAGE_DIR,
  TEST_VM_ROOT,
  createTestRuntimeRoot,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from '../executor/vm/support/vm-test-env.js';
import { createNetnsSandbox, runInNetns, type NetnsSandbox } from '../net/support/netns.js';

/** `vm_user` as numbers: no account is needed for the uid QEMU runs as (one per test process). */
const VM_UID = 55_000 + (process.pid % 5000);
const METRICS_PORT = 9252;

describe('the host guard around a user-mode QEMU job', () => {
  let sandbox: NetnsSandbox;
  let host: string;
  let runtimeRoot: string;

  before(async () => {
    await requireImage();
    sandbox = createNetnsSandbox();
    host = sandbox.add('hg');
    const outside = sandbox.add('ho');
    sandbox.link(host, outside);
    await sandbox.start(outside, 'http-whoami.mjs', ['192.0.2.2', '8080']);
    runtimeRoot = await createTestRuntimeRoot('qemu-host-guard');
    // QEMU runs as VM_UID: it must be able to enter the runtime root (search only).
    await chmod(TEST_VM_ROOT, 0o711);
    await chmod(runtimeRoot, 0o711);
  });

  after(async () => {
    sandbox?.dispose();
    if (!runtimeRoot) return;
    // A fixture that died mid-job leaves its QEMU (another uid, not its child any more): end it
    // here, then the root must be empty.
    for (const { pid } of await qemuProcessesMentioning(runtimeRoot)) process.kill(pid, 'SIGKILL');
    await removeTestRuntimeRoot(runtimeRoot);
  });

  it("keeps the job off the host's loopback and metrics port, while it clones from the loopback GitLab and reaches the world", async (t) => {
    const started = Date.now();
    const fixture = fileURLToPath(new URL('./fixtures/host-guard-daemon.ts', import.meta.url));
    const output = await runInNetns(host, [
      process.execPath,
      '--import',
      'tsx',
      fixture,
      runtimeRoot,
      IMAGE_DIR,
      `${VM_UID}:${VM_UID}`,
      String(METRICS_PORT),
      'http://192.0.2.2:8080/',
    ]);
    t.diagnostic(`daemon, one job and teardown took ${Date.now() - started} ms`);
    const summary = JSON.parse(output) as {
      gitlab: string;
      head: string;
      state: string;
      trace: string;
      qemuUids: number[];
      qemuCapabilities: string[];
      qemuRoots: string[];
      guardDuringJob: boolean;
      guardAfterStop: boolean;
    };
    const { trace } = summary;
    assert.match(summary.gitlab, /^http:\/\/127\.0\.0\.1:\d+/, 'the GitLab is configured on loopback');
    assert.equal(summary.state, 'success', trace);
    assert.match(trace, new RegExp(`\n${summary.head}`), 'cloned at the pipeline sha with no clone_url');
    assert.match(trace, /api-rc=0/, "the GitLab's API answers from inside the VM");
    assert.doesNotMatch(trace, /PRIVATE-LOOPBACK-SERVICE/);
    assert.match(trace, /private-rc=7/, 'the loopback service refuses the connection');
    assert.doesNotMatch(trace, /tart_|process_cpu|# HELP/, 'no metrics text came back');
    assert.match(trace, /metrics-rc=7/, "Tart's metrics port refuses the connection");
    assert.match(trace, /192\.0\.2\.1 outside-rc=0/, 'outbound NAT still reaches the world (seen from the host address)');
    assert.deepEqual(summary.qemuUids, [VM_UID], 'QEMU ran as the unprivileged vm_user');
    assert.deepEqual(summary.qemuCapabilities, ['0000000000000000'], 'with no capability left');
    assert.equal(summary.qemuRoots.length, 1, `one VM, seen chrooted: ${summary.qemuRoots.join(', ')}`);
    assert.match(summary.qemuRoots[0] ?? '', new RegExp(`^${runtimeRoot}/[^/]+/jail$`), 'QEMU is chrooted into its VM\'s empty jail dir');
    assert.equal(summary.guardDuringJob, true, 'the guard table was loaded while the VM ran');
    assert.equal(summary.guardAfterStop, false, 'and removed once the daemon stopped');
  });
});

