import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasCode } from '../../../src/errors.js';
import { planBoot, SEND_CTRL_ALT_DEL, type BootPlanInput } from '../../../src/vmm/firecracker/boot-plan.js';
import { answerRequest, initialVmState } from '../../support/firecracker-double/api-rules.js';
import { specValidator } from '../../support/firecracker-double/spec-path.js';
import { makeVmFixture, TEST_CMDLINE } from './fixtures.js';

function inputFor(spec: Awaited<ReturnType<typeof makeVmFixture>>['spec']): BootPlanInput {
  return {
    kernelPath: spec.kernelPath,
    initrdPath: spec.initrdPath,
    bootArgs: spec.kernelCmdline,
    drives: spec.disks,
    vcpus: spec.vcpus,
    memoryMb: spec.memoryMb,
    network: { tapName: 'tart0', mac: '06:00:ac:10:00:02' },
    vsock: { guestCid: 3, udsPath: `${spec.runtimeDir}/v.sock` },
    logPath: spec.consoleLogPath,
  };
}

const STATIC_INPUT: BootPlanInput = {
  kernelPath: '/img/vmlinux',
  initrdPath: '/img/initrd.img',
  bootArgs: TEST_CMDLINE,
  drives: { rootfs: '/img/rootfs.ext4', scratch: '/run/scratch.img', seed: '/run/seed.tar' },
  vcpus: 2,
  memoryMb: 1024,
  network: { tapName: 'tart7', mac: '06:00:0a:00:00:07' },
  vsock: { guestCid: 3, udsPath: '/run/v.sock' },
  logPath: '/run/firecracker.log',
};

test('the plan follows the documented pre-boot order and ends with InstanceStart', () => {
  const order = planBoot(STATIC_INPUT).map((request) => `${request.method} ${request.path}`);
  assert.deepEqual(order, [
    'PUT /logger',
    'PUT /boot-source',
    'PUT /drives/rootfs',
    'PUT /drives/scratch',
    'PUT /drives/seed',
    'PUT /machine-config',
    'PUT /network-interfaces/eth0',
    'PUT /vsock',
    'PUT /entropy',
    'PUT /actions',
  ]);
  assert.deepEqual(planBoot(STATIC_INPUT).at(-1)?.body, { action_type: 'InstanceStart' });
});

test('drives follow the guest contract: only scratch is writable and none is the root device', () => {
  const drives = planBoot(STATIC_INPUT)
    .filter((request) => request.path.startsWith('/drives/'))
    .map((request) => request.body);
  assert.deepEqual(drives, [
    { drive_id: 'rootfs', path_on_host: '/img/rootfs.ext4', is_root_device: false, is_read_only: true },
    { drive_id: 'scratch', path_on_host: '/run/scratch.img', is_root_device: false, is_read_only: false },
    { drive_id: 'seed', path_on_host: '/run/seed.tar', is_root_device: false, is_read_only: true },
  ]);
});

test('boot source, machine config, network and vsock carry the spec values', () => {
  const byPath = new Map(planBoot(STATIC_INPUT).map((request) => [request.path, request.body]));
  assert.deepEqual(byPath.get('/boot-source'), {
    kernel_image_path: '/img/vmlinux',
    initrd_path: '/img/initrd.img',
    boot_args: TEST_CMDLINE,
  });
  assert.deepEqual(byPath.get('/machine-config'), { vcpu_count: 2, mem_size_mib: 1024, smt: false });
  assert.deepEqual(byPath.get('/network-interfaces/eth0'), {
    iface_id: 'eth0',
    host_dev_name: 'tart7',
    guest_mac: '06:00:0a:00:00:07',
  });
  assert.deepEqual(byPath.get('/vsock'), { guest_cid: 3, uds_path: '/run/v.sock' });
  assert.deepEqual(byPath.get('/logger'), {
    log_path: '/run/firecracker.log',
    level: 'Warning',
    show_level: true,
    show_log_origin: false,
  });
});

test('contract: for any valid VM size and names, every request validates against firecracker.yaml', () => {
  const validator = specValidator();
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 32 }),
      fc.integer({ min: 64, max: 1 << 20 }),
      fc.integer({ min: 3, max: 2 ** 31 }),
      fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/),
      fc.boolean(),
      (vcpus, memoryMb, guestCid, tapName, withNetwork) => {
        const input: BootPlanInput = {
          ...STATIC_INPUT,
          vcpus,
          memoryMb,
          vsock: { guestCid, udsPath: '/run/v.sock' },
          network: withNetwork ? { tapName, mac: '06:00:0a:00:00:07' } : undefined,
        };
        for (const request of [...planBoot(input), SEND_CTRL_ALT_DEL]) {
          const check = validator.check(request);
          assert.ok(
            check.ok,
            `${request.method} ${request.path}: ${check.ok ? '' : check.problems.join('; ')}`,
          );
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('contract: the strict double accepts the whole plan in order, with real files behind the paths', async () => {
  const fixture = await makeVmFixture();
  try {
    const state = initialVmState();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(fixture.spec.consoleLogPath, '');
    for (const request of planBoot(inputFor(fixture.spec))) {
      const answer = answerRequest(specValidator(), state, request, 'job-1');
      assert.equal(answer.status, 204, `${request.method} ${request.path}: ${JSON.stringify(answer.body)}`);
    }
    assert.equal(state.started, true);
    assert.equal(state.drives.size, 3);
  } finally {
    await fixture.cleanup();
  }
});

test('inputs Firecracker would refuse fail before anything runs, naming each problem', () => {
  const bad: BootPlanInput = {
    ...STATIC_INPUT,
    vcpus: 33,
    bootArgs: 'x'.repeat(2000),
    vsock: { guestCid: 2, udsPath: '/v' },
    network: { tapName: 'a-name-that-is-too-long', mac: 'zz' },
  };
  assert.throws(
    () => planBoot(bad),
    (error: unknown) => {
      assert.ok(hasCode(error, 'FIRECRACKER_INVALID_SPEC'));
      assert.equal((error.details.problems as string[]).length, 5);
      return true;
    },
  );
});

test('a job image is a fourth, read-only drive after seed, and validates against firecracker.yaml', () => {
  const input: BootPlanInput = { ...STATIC_INPUT, drives: { ...STATIC_INPUT.drives, job_image: '/store/images/ab/rootfs.ext4' } };
  const plan = planBoot(input);
  const drives = plan.filter((request) => request.path.startsWith('/drives/'));
  assert.deepEqual(
    drives.map((request) => request.path),
    ['/drives/rootfs', '/drives/scratch', '/drives/seed', '/drives/job_image'],
  );
  assert.deepEqual(drives.at(-1)?.body, {
    drive_id: 'job_image',
    path_on_host: '/store/images/ab/rootfs.ext4',
    is_root_device: false,
    is_read_only: true,
  });
  const validator = specValidator();
  for (const request of plan) {
    const check = validator.check(request);
    assert.ok(check.ok, `${request.method} ${request.path}: ${check.ok ? '' : check.problems.join('; ')}`);
  }
});

test('service images are read-only drives after the job image, and validate against firecracker.yaml', () => {
  const input: BootPlanInput = { ...STATIC_INPUT, drives: { ...STATIC_INPUT.drives, job_image: '/store/job.ext4' }, serviceDrives: ['/store/web.ext4', '/store/db.ext4'] };
  const plan = planBoot(input);
  const drives = plan.filter((request) => request.path.startsWith('/drives/'));
  assert.deepEqual(
    drives.map((request) => request.path),
    ['/drives/rootfs', '/drives/scratch', '/drives/seed', '/drives/job_image', '/drives/service_0', '/drives/service_1'],
  );
  assert.deepEqual(drives.at(-1)?.body, { drive_id: 'service_1', path_on_host: '/store/db.ext4', is_root_device: false, is_read_only: true });
  const validator = specValidator();
  for (const request of plan) {
    const check = validator.check(request);
    assert.ok(check.ok, `${request.method} ${request.path}: ${check.ok ? '' : check.problems.join('; ')}`);
  }
});
