// The QEMU command line: microvm machine, disks in the guest contract's order with the right
// read-only flags, networking per mode, and nothing secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildQemuArgs } from '../../../src/vmm/qemu/qemu-args.js';
import type { VmSpec } from '../../../src/vmm/types.js';

const spec: VmSpec = {
  id: 'job7-abcd1234',
  vcpus: 1,
  memoryMb: 512,
  kernelPath: '/img/vmlinuz',
  initrdPath: '/img/initrd.img',
  kernelCmdline: 'console=ttyS0 root=/dev/vda ro',
  disks: { rootfs: '/img/rootfs.ext4', scratch: '/run/vm/scratch.img', seed: '/run/vm/seed.tar' },
  network: { mode: 'user', sshForwardPort: 40022 },
  consoleLogPath: '/run/vm/console.log',
  runtimeDir: '/run/vm',
};

// The value following each occurrence of `flag`.
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ''] : []));
}

describe('buildQemuArgs with passed disks', () => {
  it('names a passed disk by its fd set, and keeps the others as paths', () => {
    const args = buildQemuArgs({
      spec: { ...spec, disks: { ...spec.disks, jobImage: '/store/rootfs.ext4' } },
      accel: 'tcg',
      qmpSocket: '/run/vm/qemu/qmp.sock',
      pidFile: '/run/vm/qemu/qemu.pid',
      passedDisks: { rootfs: 3, jobImage: 4 },
    });
    assert.deepEqual(valuesOf(args, '-add-fd'), ['fd=3,set=3', 'fd=4,set=4']);
    const drives = valuesOf(args, '-drive');
    assert.match(drives[0] ?? '', /^id=rootfs,file=\/dev\/fdset\/3,.*readonly=on/);
    assert.match(drives[1] ?? '', /^id=scratch,file=\/run\/vm\/scratch\.img,/);
    assert.match(drives[3] ?? '', /^id=job_image,file=\/dev\/fdset\/4,.*readonly=on/);
    assert.ok(!args.some((arg) => arg.includes('/img/rootfs.ext4') || arg.includes('/store/')));
  });
});

describe('buildQemuArgs', () => {
  const args = buildQemuArgs({
    spec,
    accel: 'tcg',
    qmpSocket: '/run/vm/qmp.sock',
    pidFile: '/run/vm/qemu.pid',
  });

  it("boots the microvm machine with the spec's kernel, initrd, command line, CPUs and memory", () => {
    assert.deepEqual(valuesOf(args, '-M'), ['microvm,acpi=on']);
    assert.deepEqual(valuesOf(args, '-accel'), ['tcg']);
    assert.deepEqual(valuesOf(args, '-kernel'), ['/img/vmlinuz']);
    assert.deepEqual(valuesOf(args, '-initrd'), ['/img/initrd.img']);
    assert.deepEqual(valuesOf(args, '-append'), ['console=ttyS0 root=/dev/vda ro']);
    assert.deepEqual(valuesOf(args, '-smp'), ['1']);
    assert.deepEqual(valuesOf(args, '-m'), ['512']);
    assert.ok(args.includes('-nodefaults') && args.includes('-no-reboot'));
    assert.equal(args.includes('-cpu'), false, 'no -cpu host under TCG');
  });

  it('runs QEMU under its seccomp sandbox: no obsolete calls, privilege gains, spawns or resource control', () => {
    assert.deepEqual(valuesOf(args, '-sandbox'), [
      'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    ]);
  });

  it('starts the guest paused (-S): the driver lets it run once QEMU is jailed and limited', () => {
    assert.ok(args.includes('-S'));
    assert.equal(args.includes('-chroot'), false, 'no jail without an owner');
    assert.equal(args.includes('-runas'), false);
  });

  it('jails QEMU into the given dir and drops it to uid:gid, with set*uid allowed for that drop only', () => {
    const jailed = buildQemuArgs({
      spec,
      accel: 'tcg',
      qmpSocket: '/run/vm/qemu/qmp.sock',
      pidFile: '/run/vm/qemu/qemu.pid',
      jail: { dir: '/run/vm/jail', uid: 64_001, gid: 64_002 },
    });
    assert.deepEqual(valuesOf(jailed, '-chroot'), ['/run/vm/jail']);
    assert.deepEqual(valuesOf(jailed, '-runas'), ['64001:64002']);
    assert.deepEqual(valuesOf(jailed, '-sandbox'), [
      'on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny',
    ]);
    assert.ok(jailed.includes('-S'));
  });

  it('attaches rootfs (read-only), scratch (writable) and seed (read-only) in that order as raw disks', () => {
    const drives = valuesOf(args, '-drive').map((value) =>
      Object.fromEntries(value.split(',').map((part) => part.split('=') as [string, string])),
    );
    assert.deepEqual(
      drives.map((drive) => [drive.id, drive.file, drive.format, drive.readonly ?? 'off']),
      [
        ['rootfs', '/img/rootfs.ext4', 'raw', 'on'],
        ['scratch', '/run/vm/scratch.img', 'raw', 'off'],
        ['seed', '/run/vm/seed.tar', 'raw', 'on'],
      ],
    );
    assert.deepEqual(
      valuesOf(args, '-device').filter((device) => device.startsWith('virtio-blk')),
      ['virtio-blk-device,drive=rootfs', 'virtio-blk-device,drive=scratch', 'virtio-blk-device,drive=seed'],
    );
  });

  it("attaches a job's container image read-only as the fourth disk (/dev/vdd)", () => {
    const withImage = buildQemuArgs({
      spec: { ...spec, disks: { ...spec.disks, jobImage: '/store/images/ab/rootfs.ext4' } },
      accel: 'tcg',
      qmpSocket: '/run/vm/qmp.sock',
      pidFile: '/run/vm/qemu.pid',
    });
    const drives = valuesOf(withImage, '-drive');
    assert.equal(drives.length, 4);
    assert.equal(
      drives[3],
      'id=job_image,file=/store/images/ab/rootfs.ext4,format=raw,if=none,cache=unsafe,readonly=on',
    );
    assert.equal(
      valuesOf(withImage, '-device')
        .filter((device) => device.startsWith('virtio-blk'))
        .at(-1),
      'virtio-blk-device,drive=job_image',
    );
    assert.equal(valuesOf(args, '-drive').length, 3, 'no fourth disk without a job image');
  });

  it('attaches service images read-only after the job image, in services order', () => {
    const withServices = buildQemuArgs({
      spec: { ...spec, disks: { ...spec.disks, jobImage: '/store/job.ext4', services: ['/store/web.ext4', '/store/db.ext4'] } },
      accel: 'tcg',
      qmpSocket: '/run/vm/qmp.sock',
      pidFile: '/run/vm/qemu.pid',
    });
    assert.deepEqual(valuesOf(withServices, '-drive').slice(3), [
      'id=job_image,file=/store/job.ext4,format=raw,if=none,cache=unsafe,readonly=on',
      'id=service_0,file=/store/web.ext4,format=raw,if=none,cache=unsafe,readonly=on',
      'id=service_1,file=/store/db.ext4,format=raw,if=none,cache=unsafe,readonly=on',
    ]);
    assert.deepEqual(
      valuesOf(withServices, '-device').filter((device) => device.startsWith('virtio-blk')).slice(3),
      ['virtio-blk-device,drive=job_image', 'virtio-blk-device,drive=service_0', 'virtio-blk-device,drive=service_1'],
    );
  });

  it("forwards only loopback to the guest's sshd in user mode, and has QMP and a pid file in the runtime dir", () => {
    assert.deepEqual(valuesOf(args, '-netdev'), ['user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22']);
    assert.deepEqual(valuesOf(args, '-qmp'), ['unix:/run/vm/qmp.sock,server=on,wait=off']);
    assert.deepEqual(valuesOf(args, '-pidfile'), ['/run/vm/qemu.pid']);
    assert.deepEqual(valuesOf(args, '-serial'), ['chardev:console']);
  });

  it('uses the TAP device and MAC for tap networking, and -cpu host under KVM', () => {
    const tap = buildQemuArgs({
      spec: { ...spec, network: { mode: 'tap', tapName: 'tart-tap3', mac: '06:00:ac:10:00:02' } },
      accel: 'kvm',
      qmpSocket: 'q',
      pidFile: 'p',
    });
    assert.deepEqual(valuesOf(tap, '-netdev'), ['tap,id=net0,ifname=tart-tap3,script=no,downscript=no']);
    assert.ok(valuesOf(tap, '-device').includes('virtio-net-device,netdev=net0,mac=06:00:ac:10:00:02'));
    assert.deepEqual(valuesOf(tap, '-cpu'), ['host']);
  });

  it('is a plain argv: every element a string, no shell syntax needed', () => {
    assert.ok(args.every((arg) => typeof arg === 'string' && arg.length > 0));
  });
});
