// Boots the built image under QEMU microvm (TCG) with the three contract disks, logs in with
// ssh as the runner would, and checks what the guest init promised. Needs the image built
// (`tart image build`); CI builds it before the tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IMAGE_FILES, readImageManifest } from '../../src/image/layout.js';
import { GUEST_READY_MARKER, SEED_FILES } from '../../src/vmm/guest-contract.js';
import { builtImageDir } from './support.js';
import { EXTRA_SEED_FILES } from '../../src/image/guest-init.js';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const BOOT_TIMEOUT_MS = 240_000;
const YEAR_SECONDS = 365 * 24 * 3600;

test(
  'the built image boots under QEMU microvm and answers uname -r over ssh with the pinned host key',
  { timeout: 420_000 },
  async (t) => {
    const imageDir = await builtImageDir();
    if (!imageDir)
      return t.skip('no image built: run "tart image build" first (CI builds it before the tests)');
    const manifest = await readImageManifest(imageDir);
    const work = await mkdtemp(join(tmpdir(), 'tart-boot-test-'));
    let qemu: ChildProcess | undefined;
    try {
      await chmod(work, 0o700);
      const seed = await makeSeed(work);
      const scratch = join(work, 'scratch.img');
      await writeFile(scratch, '');
      await truncate(scratch, 4 * 1024 ** 3); // sparse, as the VM executor makes it
      const port = await freePort();
      const consoleLog = join(work, 'console.log');

      const started = Date.now();
      qemu = spawn(
        'qemu-system-x86_64',
        qemuArgs({ imageDir, cmdline: manifest.kernelCmdline, scratch, seed: seed.tar, consoleLog, port }),
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const exited = new Promise<number | null>((resolve) => qemu?.once('exit', (code) => resolve(code)));
      let qemuErrors = '';
      qemu.stderr?.on('data', (chunk: Buffer) => (qemuErrors += chunk.toString()));

      const describeBoot = async () => `console:\n${await readConsole(consoleLog)}\nqemu:\n${qemuErrors}`;
      await waitFor(
        async () => {
          if ((await readConsole(consoleLog)).includes(GUEST_READY_MARKER)) return true;
          if (qemu?.exitCode !== null)
            assert.fail(`QEMU exited before the guest was ready\n${await describeBoot()}`);
          return false;
        },
        BOOT_TIMEOUT_MS,
        async () => `the guest to be ready\n${await describeBoot()}`,
      );
      const readyMs = Date.now() - started;
      const ssh = (command: string, extra: string[] = []) =>
        run(
          'ssh',
          [
            ...sshOptions({ port, key: seed.clientKey, knownHosts: seed.knownHosts }),
            ...extra,
            'root@127.0.0.1',
            command,
          ],
          { timeout: 120_000 },
        );

      const { stdout: release } = await ssh('uname -r');
      const firstCommandMs = Date.now() - started;
      assert.equal(release.trim(), manifest.kernelRelease);

      const consoleText = await readConsole(consoleLog);
      const initAt = /tart-initramfs: started at ([\d.]+) s/.exec(consoleText)?.[1];
      const listeningAt = /tart-guest: sshd listening at ([\d.]+) s/.exec(consoleText)?.[1];
      t.diagnostic(`guest uptime at initramfs /init: ${initAt} s, sshd listening: ${listeningAt} s`);
      t.diagnostic(
        `wall clock from QEMU spawn: ready marker ${readyMs} ms, first ssh command done ${firstCommandMs} ms`,
      );

      await t.test(
        'the root is an overlay on the read-only image, writable through the scratch disk',
        async () => {
          const { stdout } = await ssh(
            'awk \'$2 == "/" {print $3}\' /proc/mounts; touch /usr/tart-write-test && echo writable',
          );
          assert.deepEqual(stdout.trim().split('\n'), ['overlay', 'writable']);
        },
      );

      await t.test('identity, network and seed handling follow the seed disk', async () => {
        const { stdout } = await ssh(
          "hostname; cat /etc/resolv.conf; ip -4 -o addr show dev eth0 | awk '{print $4}'; stat -c %a /run/tart-seed; stat -c %a /etc/ssh/ssh_host_ed25519_key /root/.ssh/authorized_keys",
        );
        assert.deepEqual(stdout.trim().split('\n'), [
          'tart-boot-test',
          'nameserver 10.0.2.3',
          '10.0.2.15/24',
          '700',
          '600',
          '600',
        ]);
      });

      await t.test('the clock is set from the seed and the host key on disk is the seeded one', async () => {
        const { stdout } = await ssh('date +%s; cat /etc/ssh/ssh_host_ed25519_key.pub');
        const [guestNow, hostKey] = stdout.trim().split('\n');
        assert.ok(Number(guestNow) > Date.now() / 1000 + YEAR_SECONDS - 3600, `guest clock ${guestNow}`);
        assert.equal(hostKey?.split(' ').slice(0, 2).join(' '), seed.hostPub);
      });

      await t.test('password logins are refused', async () => {
        await assert.rejects(
          ssh('true', [
            '-o',
            'PubkeyAuthentication=no',
            '-o',
            'PreferredAuthentications=password,keyboard-interactive',
          ]),
          (error: { stderr?: string }) => /Permission denied/.test(error.stderr ?? ''),
        );
      });

      await t.test('orphaned processes are reaped by init', async () => {
        await ssh("sh -c 'sleep 0.3 & exit 0'");
        const { stdout } = await ssh("sleep 1.5; ps -eo stat= | grep -c '^Z' || true");
        assert.equal(stdout.trim(), '0');
      });

      await t.test('SIGTERM to init stops sshd and ends the VM', async () => {
        await ssh('kill -TERM 1').catch(() => undefined); // the session may drop as sshd stops
        const code = await Promise.race([
          exited,
          new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 120_000)),
        ]);
        assert.equal(code, 0, await readConsole(consoleLog));
        assert.match(await readConsole(consoleLog), /tart-guest: powering off/);
      });
    } finally {
      if (qemu && qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
      await rm(work, { recursive: true, force: true });
    }
  },
);

// Seed tar per the contract, with fresh ed25519 client and host keys.
async function makeSeed(
  work: string,
): Promise<{ tar: string; clientKey: string; knownHosts: string; hostPub: string }> {
  const seedDir = join(work, 'seed');
  await mkdir(seedDir, { mode: 0o700 });
  const clientKey = join(work, 'client');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tart-test-client', '-f', clientKey]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'tart-test-host',
    '-f',
    join(seedDir, SEED_FILES.hostKey),
  ]);
  await writeFile(join(seedDir, SEED_FILES.authorizedKeys), await readFile(`${clientKey}.pub`));
  await writeFile(
    join(seedDir, SEED_FILES.network),
    'ADDRESS=10.0.2.15/24\nGATEWAY=10.0.2.2\nDNS="10.0.2.3"\n',
  );
  await writeFile(join(seedDir, SEED_FILES.hostname), 'tart-boot-test\n');
  await writeFile(join(seedDir, EXTRA_SEED_FILES.randomSeed), randomBytes(64));
  await writeFile(join(seedDir, EXTRA_SEED_FILES.time), `${Math.floor(Date.now() / 1000) + YEAR_SECONDS}\n`);
  const tar = join(work, 'seed.tar');
  await run('tar', ['-c', '-f', tar, '-C', seedDir, '.']);
  await chmod(tar, 0o600);
  const hostPub = (await readFile(join(seedDir, `${SEED_FILES.hostKey}.pub`), 'utf8'))
    .split(' ')
    .slice(0, 2)
    .join(' ');
  const knownHosts = join(work, 'known_hosts');
  await writeFile(knownHosts, `127.0.0.1 ${hostPub}\n`);
  return { tar, clientKey, knownHosts, hostPub };
}

function qemuArgs(o: {
  imageDir: string;
  cmdline: string;
  scratch: string;
  seed: string;
  consoleLog: string;
  port: number;
}): string[] {
  const drive = (id: string, file: string, readonly: boolean) => [
    '-drive',
    `id=${id},file=${file},format=raw,if=none${readonly ? ',readonly=on' : ''}`,
    '-device',
    `virtio-blk-device,drive=${id}`,
  ];
  return [
    '-M',
    'microvm,acpi=on',
    '-accel',
    'tcg',
    '-m',
    '512',
    '-smp',
    '1',
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-no-reboot',
    '-serial',
    `file:${o.consoleLog}`,
    '-kernel',
    join(o.imageDir, IMAGE_FILES.kernel),
    '-initrd',
    join(o.imageDir, IMAGE_FILES.initrd),
    '-append',
    o.cmdline,
    ...drive('rootfs', join(o.imageDir, IMAGE_FILES.rootfs), true),
    ...drive('scratch', o.scratch, false),
    ...drive('seed', o.seed, true),
    '-netdev',
    `user,id=n0,hostfwd=tcp:127.0.0.1:${o.port}-:22`,
    '-device',
    'virtio-net-device,netdev=n0',
  ];
}

function sshOptions(o: { port: number; key: string; knownHosts: string }): string[] {
  return [
    '-p',
    String(o.port),
    '-i',
    o.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${o.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'HostKeyAlias=127.0.0.1',
    '-o',
    'ConnectTimeout=60',
    '-o',
    'LogLevel=ERROR',
  ];
}

async function readConsole(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
