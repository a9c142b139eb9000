import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BOOT_COMMAND_CONSOLE, EXTRA_SEED_FILES, GUEST_DEVICES, GUEST_READY_MARKER, HELPER_ROOT_BUSYBOX, SEED_FILES } from '../../src/vmm/guest-contract.js';
import { INIT_BUSYBOX_APPLETS, renderGuestInit, renderSshdConfig, SEED_MOUNT } from '../../src/image/guest-init.js';
import { GUEST_INIT_PATH, INITRAMFS_APPLETS, renderInitramfsInit } from '../../src/image/initramfs-init.js';
import { initramfsEntries } from '../../src/image/initramfs.js';

const MODULES = [
  'lib/modules/virtio_ring.ko',
  'lib/modules/virtio.ko',
  'lib/modules/virtio_mmio.ko',
  'lib/modules/overlay.ko',
];

function syntaxCheck(shell: string[], script: string): void {
  const result = spawnSync(shell[0] ?? 'sh', [...shell.slice(1), '-n'], { input: script, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

test('the initramfs init parses under busybox sh', () => {
  syntaxCheck(['busybox', 'sh'], renderInitramfsInit({ modules: MODULES }));
});

test('the initramfs init loads modules in the given order before touching any disk', () => {
  const script = renderInitramfsInit({ modules: MODULES });
  assert.match(
    script,
    /for module in lib\/modules\/virtio_ring\.ko lib\/modules\/virtio\.ko lib\/modules\/virtio_mmio\.ko lib\/modules\/overlay\.ko; do/,
  );
  assert.ok(script.indexOf('insmod') < script.indexOf(`mount -t ext4 -o ro,noload ${GUEST_DEVICES.rootfs}`));
});

test('the initramfs init follows the guest contract: rootfs read-only lower, scratch formatted as upper', () => {
  const script = renderInitramfsInit({ modules: MODULES });
  assert.match(script, new RegExp(`mount -t ext4 -o ro,noload ${GUEST_DEVICES.rootfs} /lower`));
  assert.match(script, new RegExp(`mke2fs -q -F -t ext4 [^\\n]*\\n[^\\n]* ${GUEST_DEVICES.scratch} `));
  assert.match(script, /lowerdir=\/lower,upperdir=\/scratch\/upper,workdir=\/scratch\/work \/newroot/);
  assert.match(script, new RegExp(`exec switch_root /newroot ${GUEST_INIT_PATH}$`, 'm'));
  assert.ok(!script.includes(GUEST_DEVICES.seed), 'the seed disk is left to the guest init');
});

test('the guest init parses under bash', () => {
  syntaxCheck(['bash'], renderGuestInit());
});

test('the guest init reads every contract seed file from the seed disk into a 0700 tmpfs', () => {
  const script = renderGuestInit();
  assert.match(script, new RegExp(`mount -t tmpfs -o mode=0700[^ ]* tmpfs ${SEED_MOUNT}`));
  assert.match(script, new RegExp(`tar -x --no-same-owner -f ${GUEST_DEVICES.seed} -C ${SEED_MOUNT}`));
  for (const file of Object.values(SEED_FILES)) assert.ok(script.includes(`${SEED_MOUNT}/${file}`), file);
  assert.match(script, /install -m 0600 \S+\/authorized_keys \/root\/\.ssh\/authorized_keys/);
  assert.match(script, /install -m 0600 \S+\/ssh_host_ed25519_key \/etc\/ssh\/ssh_host_ed25519_key/);
});

test('the guest init prints the ready marker only after sshd listens, then waits on sshd and powers off', () => {
  const script = renderGuestInit();
  const marker = script.indexOf(`echo "${GUEST_READY_MARKER}"`);
  assert.ok(marker > script.indexOf('/usr/sbin/sshd -D -e &'));
  assert.ok(marker > script.indexOf('/proc/net/tcp'));
  assert.match(script, /trap '.*kill -TERM "\$sshd_pid".*' TERM/);
  assert.ok(script.trimEnd().endsWith('power_off "sshd ended"'));
});

test("the guest init reports the seed's boot command on the console before the ready marker", () => {
  const script = renderGuestInit();
  const marker = script.lastIndexOf(`echo "${GUEST_READY_MARKER}"`);
  assert.ok(script.includes(`${SEED_MOUNT}/${EXTRA_SEED_FILES.bootCommand}`));
  assert.ok(script.lastIndexOf('start_boot_command') < script.lastIndexOf('start_sshd'));
  assert.ok(script.lastIndexOf('report_boot_command') < marker);
  assert.ok(script.includes(`echo "${BOOT_COMMAND_CONSOLE.exit}$status"`));
});

test("the guest init runs its small steps as applets of the root's static busybox, which has every one of them", () => {
  const script = renderGuestInit();
  const applets = new Set((spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout ?? '').split('\n'));
  for (const applet of INIT_BUSYBOX_APPLETS) {
    assert.ok(applets.has(applet), `busybox-static has no ${applet}`);
    const definition = script.indexOf(`${applet}() { ${HELPER_ROOT_BUSYBOX} ${applet} "$@"; }`);
    assert.ok(definition > 0 && definition < script.indexOf('mount_filesystems()'), applet);
  }
  // sshd and the entropy credit stay the root's own programs.
  assert.ok(!INIT_BUSYBOX_APPLETS.some((applet) => ['install', 'perl', 'sshd', 'socat'].includes(applet)));
});

test('sshd allows root by key only, with no passwords, PAM or DNS lookups', () => {
  const config = renderSshdConfig();
  for (const line of [
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    `HostKey /etc/ssh/${SEED_FILES.hostKey}`,
  ]) {
    assert.ok(config.split('\n').includes(line), line);
  }
});

test('the initramfs layout has a console node, busybox with its applets and an executable /init', () => {
  const entries = initramfsEntries({ busybox: Buffer.from('bb'), init: '#!/bin/sh\n', moduleEntries: [] });
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  assert.deepEqual(byPath.get('dev/console'), {
    kind: 'chardev',
    path: 'dev/console',
    major: 5,
    minor: 1,
    mode: 0o600,
  });
  assert.equal(byPath.get('init')?.kind, 'file');
  assert.equal((byPath.get('init') as { mode?: number }).mode, 0o755);
  for (const applet of INITRAMFS_APPLETS)
    assert.deepEqual(byPath.get(`bin/${applet}`), {
      kind: 'symlink',
      path: `bin/${applet}`,
      target: 'busybox',
    });
  assert.ok(
    entries.findIndex((entry) => entry.path === 'bin') <
      entries.findIndex((entry) => entry.path === 'bin/busybox'),
  );
});
