import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRootfs, mkfsArgs, mmdebstrapArgs, ROOTFS_PACKAGES } from '../../src/image/rootfs.js';
import { spawnCommand, type CommandRunner } from '../../src/image/spawn.js';

test('mmdebstrap copies staged kernel modules into the root and indexes them there with depmod', () => {
  const args = mmdebstrapArgs({ mode: 'unshare', target: '/w/rootfs.tar', aptSourcesFile: '/w/s', initFile: '/w/i', sshdFile: '/w/c', busyboxFile: '/bin/busybox', modules: { dir: '/w/modules', release: '6.1.0-57-cloud-amd64' } });
  const hooks = args.filter((arg) => arg.startsWith('--customize-hook='));
  const copy = hooks.indexOf('--customize-hook=copy-in /w/modules/6.1.0-57-cloud-amd64 /lib/modules');
  assert.ok(copy > 0 && hooks[copy - 1] === '--customize-hook=mkdir -p "$1"/lib/modules', hooks.join('\n'));
  assert.equal(hooks[copy + 1], '--customize-hook=chroot "$1" depmod -a 6.1.0-57-cloud-amd64');
  assert.ok(ROOTFS_PACKAGES.includes('kmod'), 'modprobe for the kernel\'s autoloading');
  assert.ok(!mmdebstrapArgs({ mode: 'root', target: '/t', aptSourcesFile: '/s', initFile: '/i', sshdFile: '/c', busyboxFile: '/bin/busybox' }).some((arg) => arg.includes('depmod')));
});

test('mmdebstrap gets minbase, the package list, the guest files, the static busybox and the host-key removal', () => {
  const args = mmdebstrapArgs({
    mode: 'root',
    target: '/w/rootfs',
    aptSourcesFile: '/w/guest.sources',
    initFile: '/w/tart-init',
    sshdFile: '/w/sshd_config',
    busyboxFile: '/bin/busybox',
  });
  assert.ok(args.includes('--variant=minbase'));
  assert.ok(args.includes(`--include=${ROOTFS_PACKAGES.join(',')}`));
  assert.ok(args.includes('--customize-hook=upload /w/tart-init /sbin/tart-init'));
  assert.ok(args.includes('--customize-hook=upload /w/sshd_config /etc/ssh/sshd_config'));
  assert.ok(args.includes('--customize-hook=upload /bin/busybox /usr/lib/tart/busybox'));
  assert.ok(args.some((arg) => arg.includes('rm -f "$1"/etc/ssh/ssh_host_*')));
  assert.deepEqual(args.slice(-3), ['bookworm', '/w/rootfs', '/w/guest.sources']);
  assert.ok(!args.some((arg) => /systemd/.test(arg)));
});

test('the ext4 image is sized from the content with slack and has no journal', () => {
  const args = mkfsArgs({ tree: '/t', output: '/o.ext4', bytes: 300 * 1024 * 1024, entries: 20_000 });
  assert.deepEqual(args.slice(-4), ['-d', '/t', '/o.ext4', `${Math.ceil((300 * 1.1 + 64) * 256) * 4}k`]);
  assert.ok(args.join(' ').includes('-O ^has_journal'));
  assert.equal(args[args.indexOf('-N') + 1], String(24_000 + 4096));
});

test('without root the tree comes from an unshare-mode tar and is imaged inside fakeroot as root-owned files', async (t) => {
  if (spawnSync('fakeroot', ['true']).status !== 0) return t.skip('fakeroot not installed');
  const work = await mkdtemp(join(tmpdir(), 'tart-rootfs-test-'));
  try {
    const calls: string[] = [];
    const run: CommandRunner = async (request) => {
      calls.push(request.command);
      if (request.command !== 'mmdebstrap') return spawnCommand(request);
      assert.ok(request.args.includes('--mode=unshare'));
      const tree = join(work, 'fake-tree');
      await mkdir(join(tree, 'etc'), { recursive: true });
      await writeFile(join(tree, 'etc', 'hello'), 'hi');
      // As mmdebstrap --mode=unshare would: a tar whose members are owned by root.
      return spawnCommand({
        command: 'tar',
        args: ['--owner=0', '--group=0', '-c', '-f', request.args.at(-2) ?? '', '-C', tree, '.'],
      });
    };
    const output = join(work, 'rootfs.ext4');
    await buildRootfs({
      workDir: work,
      output,
      aptSourcesFile: join(work, 'guest.sources'),
      files: { guestInit: '#!/bin/bash\n', sshdConfig: '' },
      busyboxFile: '/bin/busybox',
      asRoot: false,
      run,
      log: () => {},
    });
    assert.deepEqual(calls, ['mmdebstrap', 'fakeroot']);
    const stat = spawnSync('debugfs', ['-R', 'stat /etc/hello', output], { encoding: 'utf8' });
    assert.match(stat.stdout, /User:\s+0\s+Group:\s+0/);
    assert.equal(spawnSync('debugfs', ['-R', 'cat /etc/hello', output], { encoding: 'utf8' }).stdout, 'hi');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
