// The jail a guarded QEMU chroots into: an empty root-owned 0755 dir of its VM holding only the
// host's resolv.conf (slirp reads it for the guest's DNS after the chroot), and the check that a
// process really has it as its root.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '../../../src/errors.js';
import { assertJailed, prepareQemuJail, QEMU_JAIL_DIR } from '../../../src/vmm/qemu/qemu-jail.js';

describe('prepareQemuJail', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-qemu-jail-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes <runtime dir>/jail, 0755 and this user's, with only etc/resolv.conf in it", async () => {
    const runtimeDir = await mkdtemp(join(dir, 'vm-'));
    const resolvConf = join(dir, 'resolv.conf');
    await writeFile(resolvConf, 'nameserver 192.0.2.53\n', { mode: 0o600 });
    const jail = await prepareQemuJail(runtimeDir, resolvConf);
    assert.equal(jail, join(runtimeDir, QEMU_JAIL_DIR));
    const info = await stat(jail);
    assert.equal(info.mode & 0o777, 0o755);
    assert.equal(info.uid, process.getuid?.());
    assert.deepEqual(await readdir(jail), ['etc']);
    assert.deepEqual(await readdir(join(jail, 'etc')), ['resolv.conf']);
    assert.equal(await readFile(join(jail, 'etc', 'resolv.conf'), 'utf8'), 'nameserver 192.0.2.53\n');
    assert.equal((await stat(join(jail, 'etc', 'resolv.conf'))).mode & 0o777, 0o644, 'readable by the dropped QEMU');
  });

  it('leaves etc empty on a host without a resolv.conf, and never reuses a jail', async () => {
    const runtimeDir = await mkdtemp(join(dir, 'vm-'));
    const jail = await prepareQemuJail(runtimeDir, join(dir, 'absent.conf'));
    assert.deepEqual(await readdir(join(jail, 'etc')), []);
    await assert.rejects(prepareQemuJail(runtimeDir, join(dir, 'absent.conf')), { code: 'EEXIST' });
  });
});

describe('assertJailed', () => {
  it("passes for a process whose root is the jail, and names the root it found otherwise", async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    try {
      await assertJailed(child.pid ?? 0, '/');
      await assert.rejects(assertJailed(child.pid ?? 0, '/run/vm/jail'), (error: unknown) => {
        assert.ok(hasCode(error, 'VMM_JAIL_FAILED'));
        assert.match(error.message, /is not confined to \/run\/vm\/jail: its root is \//);
        return true;
      });
    } finally {
      child.kill('SIGKILL');
    }
    await assert.rejects(assertJailed(2 ** 22 + 17, '/'), (error: unknown) => hasCode(error, 'VMM_JAIL_FAILED'));
  });
});
