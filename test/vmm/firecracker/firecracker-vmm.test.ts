// Lifecycle tests of the Firecracker driver against the fake `firecracker` executable — a TEST
// DOUBLE that validates every request against firecracker.yaml and enforces pre/post-boot rules.
// No real Firecracker runs here (none can be installed on this machine); see real-firecracker.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode } from '../../../src/errors.js';
import { GUEST_READY_MARKER } from '../../../src/vmm/guest-contract.js';
import { connectHybridVsock } from '../../../src/guest/hybrid-vsock.js';
import { BOOT_FAILURE_MESSAGE, FAKE_GUEST_BANNER } from '../../support/firecracker-double/server.js';
import { specValidator } from '../../support/firecracker-double/spec-path.js';
import { doubleHarness, processExists } from './double-harness.js';

/** The runtime dir holds only the caller's disks once the driver has cleaned up. */
async function runtimeLeftovers(runtimeDir: string): Promise<string[]> {
  return (await readdir(runtimeDir)).filter((name) => name !== 'scratch.img' && name !== 'seed.tar').sort();
}

test('double: a VM boots, every call is spec-valid and in pre-boot order, SSH is reachable over hybrid vsock, stop cleans up', async () => {
  const harness = await doubleHarness('ok');
  try {
    const { spec } = harness.fixture;
    await writeFile(join(spec.runtimeDir, 'fc.sock'), 'stale'); // a stale socket must not block the start
    const vm = await harness.vmm.start(spec);
    assert.deepEqual(vm.sshEndpoint, {
      kind: 'unix-connect',
      path: join(spec.runtimeDir, 'v.sock'),
      port: 22,
    });
    await vm.waitForConsole?.(GUEST_READY_MARKER);

    const socket = await connectHybridVsock({ path: (vm.sshEndpoint as { path: string }).path, port: 22 });
    const banner = await new Promise<string>((resolve) =>
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    socket.destroy();
    assert.equal(banner, FAKE_GUEST_BANNER);

    await vm.stop({ graceMs: 20_000 });
    const exit = await vm.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(processExists(vm.pid), false);
    assert.deepEqual(await runtimeLeftovers(spec.runtimeDir), []);

    const calls = await harness.calls();
    const mutations = calls.filter((call) => call.method !== 'GET');
    assert.deepEqual(
      mutations.map((call) => `${call.method} ${call.path} ${call.status}`),
      [
        'PUT /logger 204',
        'PUT /boot-source 204',
        'PUT /drives/rootfs 204',
        'PUT /drives/scratch 204',
        'PUT /drives/seed 204',
        'PUT /machine-config 204',
        'PUT /network-interfaces/eth0 204',
        'PUT /vsock 204',
        'PUT /entropy 204',
        'PUT /actions 204',
        'PUT /actions 204',
      ],
    );
    assert.deepEqual(mutations.at(-1)?.body, { action_type: 'SendCtrlAltDel' });
    for (const call of calls) {
      assert.ok(specValidator().check(call).ok, `${call.method} ${call.path}`);
      assert.equal(call.headers.transferEncoding, undefined);
      assert.equal(call.headers.accept, 'application/json');
      assert.equal(
        call.headers.contentLength,
        String(call.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(call.body))),
      );
    }
    assert.match(await readFile(spec.consoleLogPath, 'utf8'), new RegExp(GUEST_READY_MARKER));
  } finally {
    await harness.cleanup();
  }
});

test('double: a refused InstanceStart fails the start with the fault message and leaves no process or file', async () => {
  const harness = await doubleHarness('boot-fail');
  try {
    const { spec } = harness.fixture;
    await assert.rejects(harness.vmm.start(spec), (error: unknown) => {
      assert.ok(hasCode(error, 'FIRECRACKER_API_ERROR'));
      assert.equal(error.details.faultMessage, BOOT_FAILURE_MESSAGE);
      assert.equal(error.details.path, '/actions');
      assert.match(String(error.details.consoleTail), /firecracker double: instance job-1/);
      return true;
    });
    const child = harness.children[0];
    assert.ok(child?.pid !== undefined);
    assert.equal(child.signalCode, 'SIGKILL');
    assert.equal(processExists(child.pid), false);
    assert.deepEqual(await runtimeLeftovers(spec.runtimeDir), []);
  } finally {
    await harness.cleanup();
  }
});

test('double: a guest crash after boot resolves exited (code 0: a reset, not a verdict) and cleans up', async () => {
  const harness = await doubleHarness('crash-after-start');
  try {
    const vm = await harness.vmm.start(harness.fixture.spec);
    const exit = await vm.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(vm.consoleTail(4096), /Kernel panic/);
    assert.deepEqual(await runtimeLeftovers(harness.fixture.spec.runtimeDir), []);
    await vm.stop(); // idempotent after exit
  } finally {
    await harness.cleanup();
  }
});

test('double: an API that never answers times out the start, and the process is killed', async () => {
  // Long enough for the double to be listening (node + tsx start slowly on a loaded host).
  const harness = await doubleHarness('hang', { apiReadyTimeoutMs: 12_000, requestTimeoutMs: 300 });
  try {
    await assert.rejects(harness.vmm.start(harness.fixture.spec), (error: unknown) => {
      assert.ok(hasCode(error, 'FIRECRACKER_API_NOT_READY'));
      assert.match(error.message, /no answer within 300 ms/);
      return true;
    });
    const child = harness.children[0];
    assert.equal(child?.signalCode, 'SIGKILL');
    assert.deepEqual(await runtimeLeftovers(harness.fixture.spec.runtimeDir), []);
  } finally {
    await harness.cleanup();
  }
});

test('double: cancelling during start SIGKILLs Firecracker and removes everything', async () => {
  const controller = new AbortController();
  const harness = await doubleHarness('ok');
  try {
    const starting = harness.vmm.start(harness.fixture.spec, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await assert.rejects(starting, (error: unknown) => hasCode(error, 'ABORTED'));
    const child = harness.children[0];
    assert.ok(child?.pid !== undefined);
    assert.equal(child.signalCode, 'SIGKILL');
    assert.equal(processExists(child.pid), false);
    assert.deepEqual(await runtimeLeftovers(harness.fixture.spec.runtimeDir), []);
  } finally {
    await harness.cleanup();
  }
});

test('double: cancelling a running VM SIGKILLs it and exited reports the signal', async () => {
  const controller = new AbortController();
  const harness = await doubleHarness('ok');
  try {
    const vm = await harness.vmm.start(harness.fixture.spec, controller.signal);
    controller.abort();
    assert.deepEqual(await vm.exited, { code: null, signal: 'SIGKILL' });
    assert.equal(processExists(vm.pid), false);
    assert.deepEqual(await runtimeLeftovers(harness.fixture.spec.runtimeDir), []);
  } finally {
    await harness.cleanup();
  }
});

test('double: a guest that ignores Ctrl-Alt-Del is killed when the grace period ends', async () => {
  const harness = await doubleHarness('ignore-ctrl-alt-del');
  try {
    const vm = await harness.vmm.start(harness.fixture.spec);
    const before = Date.now();
    await vm.stop({ graceMs: 300 });
    assert.ok(Date.now() - before >= 300);
    assert.deepEqual(await vm.exited, { code: null, signal: 'SIGKILL' });
    const calls = await harness.calls();
    assert.deepEqual(calls.at(-1)?.body, { action_type: 'SendCtrlAltDel' });
    assert.deepEqual(await runtimeLeftovers(harness.fixture.spec.runtimeDir), []);
  } finally {
    await harness.cleanup();
  }
});

test('double: describe() reports the binary version', async () => {
  const harness = await doubleHarness('ok');
  try {
    assert.equal(await harness.vmm.describe(), 'Firecracker v1.16.1-double');
  } finally {
    await harness.cleanup();
  }
});
