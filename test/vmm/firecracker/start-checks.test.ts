// Start-up refusals that happen before any process or file exists (no double needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode } from '../../../src/errors.js';
import {
  FirecrackerVmm,
  firecrackerVmmOptionsFromConfig,
  resolveFirecrackerBinary,
} from '../../../src/vmm/firecracker/firecracker-vmm.js';
import { makeVmFixture } from './fixtures.js';

async function expectRefusal(
  change: (spec: Awaited<ReturnType<typeof makeVmFixture>>['spec']) => void,
  code: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const fixture = await makeVmFixture();
  try {
    const runtimeDir = fixture.spec.runtimeDir;
    change(fixture.spec);
    const vmm = new FirecrackerVmm({ binary: join(fixture.dir, 'no-such-firecracker'), env });
    await assert.rejects(vmm.start(fixture.spec), (error: unknown) => hasCode(error, code));
    assert.deepEqual((await readdir(runtimeDir)).sort(), ['scratch.img', 'seed.tar']);
  } finally {
    await fixture.cleanup();
  }
}

test('user-mode networking is refused: Firecracker has only TAP', async () => {
  await expectRefusal(
    (spec) => (spec.network = { mode: 'user', sshForwardPort: 2222 }),
    'FIRECRACKER_NETWORK_UNSUPPORTED',
  );
});

test('a bzImage (vmlinuz) kernel is refused: released Firecracker boots only an ELF vmlinux', async () => {
  await expectRefusal(
    (spec) => (spec.kernelPath = spec.kernelPath.replace('vmlinux', 'vmlinuz')),
    'FIRECRACKER_KERNEL_NOT_ELF',
  );
});

test('an instance id Firecracker would reject is refused', async () => {
  await expectRefusal((spec) => (spec.id = 'job_1'), 'FIRECRACKER_INVALID_SPEC');
});

test('a runtime dir too deep for the unix socket limit is refused', async () => {
  await expectRefusal(
    (spec) => (spec.runtimeDir = join(spec.runtimeDir, 'd'.repeat(100))),
    'FIRECRACKER_SOCKET_PATH_TOO_LONG',
  );
});

test('a missing binary is FIRECRACKER_NOT_FOUND and leaves no runtime file behind', async () => {
  await expectRefusal(() => undefined, 'FIRECRACKER_NOT_FOUND');
});

test('FIRECRACKER_BIN overrides the configured binary, which overrides the PATH default', () => {
  assert.equal(resolveFirecrackerBinary('/opt/fc', { FIRECRACKER_BIN: '/tmp/fc' }), '/tmp/fc');
  assert.equal(resolveFirecrackerBinary('/opt/fc', {}), '/opt/fc');
  assert.equal(resolveFirecrackerBinary(undefined, {}), 'firecracker');
});

test('config: use_jailer needs uid and gid, and maps to jailer options', () => {
  const base = { binary: 'firecracker', jailer: 'jailer', useJailer: false, chrootBase: '/srv/jl' };
  assert.deepEqual(firecrackerVmmOptionsFromConfig(base), { binary: 'firecracker' });
  assert.throws(
    () => firecrackerVmmOptionsFromConfig({ ...base, useJailer: true }),
    (error: unknown) => hasCode(error, 'FIRECRACKER_JAILER_CONFIG'),
  );
  assert.deepEqual(firecrackerVmmOptionsFromConfig({ ...base, useJailer: true, uid: 900, gid: 901 }), {
    binary: 'firecracker',
    jailer: { jailerBinary: 'jailer', uid: 900, gid: 901, chrootBase: '/srv/jl' },
  });
});
