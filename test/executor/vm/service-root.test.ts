import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readinessCommand, serviceHostsLines, serviceRootSetupCommand, serviceStartCommand, splitStampedLine } from '../../../src/executor/vm/service-root.js';
import { serviceDiskDevices } from '../../../src/vmm/guest-contract.js';

describe('service roots in the guest', () => {
  it('puts every alias of a service on one 127.0.0.1 line, services without aliases left out', () => {
    assert.equal(serviceHostsLines([['web', 'www'], [], ['127.0.0.1__library__redis', '127.0.0.1-library-redis']]), '127.0.0.1\tweb www\n127.0.0.1\t127.0.0.1__library__redis 127.0.0.1-library-redis\n');
  });

  it('finds service disks after the job image, or in its place', () => {
    assert.deepEqual(serviceDiskDevices(true, 2), ['/dev/vde', '/dev/vdf']);
    assert.deepEqual(serviceDiskDevices(false, 2), ['/dev/vdd', '/dev/vde']);
  });

  it("mounts each service's disk on its own overlay layer of the scratch disk", () => {
    const command = serviceRootSetupCommand(1, '/dev/vdf', '/builds');
    assert.match(command[2]!, /mount -t ext4 -o ro,noload \/dev\/vdf \/run\/tart-service-1\/disk/);
    assert.equal(command[3], '/run/tart-service-1/disk/tart/busybox');
    assert.match(command[4]!, /upperdir=\/run\/tart-service-1\/scratch\/service-1\/upper/);
  });

  it("mounts a service's disk in the same one exec where the guest image has its static busybox", () => {
    const command = serviceRootSetupCommand(1, '/dev/vdf', '/builds', {}, { helperBusybox: '/usr/lib/tart/busybox' });
    assert.deepEqual(command.slice(0, 3), ['/usr/lib/tart/busybox', 'sh', '-c']);
    assert.ok(command[3]!.includes("'/dev/vdf /run/tart-service-1/disk ext4 ro,noload 0 0'"));
    assert.match(command[3]!, /upperdir=\/run\/tart-service-1\/scratch\/service-1\/upper/);
  });

  it("resolves a service image's USER against the service's own passwd, and root not at all", () => {
    assert.ok(serviceRootSetupCommand(1, '/dev/vdf', '/builds', { user: 'builder' }).at(-1)!.includes('/run/tart-service-1/root/etc/passwd'));
    assert.ok(!serviceRootSetupCommand(1, '/dev/vdf', '/builds', { user: 'root' }).at(-1)!.includes('tart-user'));
    assert.ok(!serviceRootSetupCommand(1, '/dev/vdf', '/builds').at(-1)!.includes('tart-user'));
  });

  it('starts the service with exactly its environment, in its root and WORKDIR, its argv passed as separate words', () => {
    const command = serviceStartCommand(0, { env: ['A=1 2', 'PATH=/bin'], argv: ['httpd', '-f', '-p', '80'], workingDir: '/data/' });
    const busybox = '/run/tart-service-0/disk/tart/busybox';
    const root = '/run/tart-service-0/root';
    assert.deepEqual(command.slice(4), [busybox, '/run/tart-service-0/output.stamped', '/run/tart-service-0/exit-status', `${root}/data`, busybox, 'env', '-i', 'A=1 2', 'PATH=/bin', busybox, 'nsenter', `-r${root}`, `-w${root}/data`, 'httpd', '-f', '-p', '80']);
  });

  it("starts a service as its image's user: gid and groups set while root, then chroot, WORKDIR and uid", () => {
    const user = { uid: 1000, gid: 1000, groups: [50, 1000], home: '/home/builder' };
    const command = serviceStartCommand(0, { env: ['PATH=/bin'], argv: ['httpd', '-f'], workingDir: '/data', user });
    const root = '/run/tart-service-0/root';
    assert.deepEqual(command.slice(command.indexOf('PATH=/bin') + 1), [
      '/usr/bin/setpriv', '--regid=1000', '--groups=50,1000', '--',
      '/usr/bin/nsenter', `--root=${root}`, `--wd=${root}/data`, '--setuid=1000', '--',
      'httpd', '-f',
    ]);
  });

  it('runs a service without WORKDIR in / of its root, and keeps a relative WORKDIR inside it', () => {
    assert.ok(serviceStartCommand(0, { env: [], argv: ['x'] }).includes('-w/run/tart-service-0/root'));
    assert.ok(serviceStartCommand(0, { env: [], argv: ['x'], workingDir: '../../etc' }).includes('-w/run/tart-service-0/root/etc'));
  });

  it("logs the service's output stamped with the time of each write, then its status", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tart-service-log-'));
    try {
      const script = serviceStartCommand(0, { env: [], argv: ['x'] })[3]!;
      const [stamped, status] = ['output.stamped', 'exit-status'].map((name) => join(dir, name)) as [string, string];
      const service = 'echo "first line"; echo "to stderr" >&2; sleep 1; printf "no newline"; exit 3';
      const before = Date.now();
      const started = spawnSync('/bin/busybox', ['sh', '-c', script, '/bin/busybox', stamped, status, join(dir, 'wd'), '/bin/busybox', 'sh', '-c', service]);
      assert.equal(started.status, 0);
      for (let tries = 0; tries < 100 && !(await readFile(status, 'utf8').catch(() => '')); tries++) await sleep(50);
      assert.equal(await readFile(status, 'utf8'), '3\n');
      const lines = (await readFile(stamped, 'utf8')).trimEnd().split('\n').map(splitStampedLine);
      assert.deepEqual(lines.map((line) => line.text), ['first line', 'to stderr', 'no newline']);
      for (const { timestamp } of lines) assert.match(timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}000Z$/);
      const times = lines.map(({ timestamp }) => Date.parse(timestamp));
      assert.ok(times[0]! >= before - 1000 && times[0]! <= Date.now(), `${lines[0]?.timestamp} is now, in UTC`);
      assert.ok(times[2]! - times[1]! >= 900, 'each line carries the time it was written, not one time for all');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks readiness against the exit status file, the timeout and every port', () => {
    assert.deepEqual(readinessCommand(2, [80, 443], 30).slice(3), ['tart-readiness', '/run/tart-service-2/exit-status', '30', '80', '443']);
  });
});
