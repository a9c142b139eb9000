// What a user sees for the mistakes an operator makes most: one clear message, a stable exit code,
// never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildProgram, executeProgram } from '../../src/cli/main.js';
import { createCliContext } from '../../src/cli/context.js';
import type { HostFacts } from '../../src/config/paths.js';

const execFileAsync = promisify(execFile);
const TART = join(import.meta.dirname, '..', '..', 'bin', 'tart.js');
const STACK = /\n\s+at /;

async function runAs(uid: number, args: string[], env: NodeJS.ProcessEnv = {}) {
  const home = await mkdtemp(join(tmpdir(), 'tart-user-errors-'));
  let stdout = '';
  let stderr = '';
  const host: HostFacts = { env: { HOME: home, ...env }, uid, home, hostname: 'h' };
  const context = createCliContext(
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: host.env,
    },
    host,
  );
  try {
    const code = await executeProgram(
      buildProgram(context),
      ['--config', join(home, 'config.toml'), ...args],
      context,
    );
    return { code, stdout, stderr };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

test('non-root image build and network setup say they need root, without a stack', async () => {
  for (const [args, expected] of [
    [['image', 'build'], /^ERROR: "tart image build" needs root \(mmdebstrap .*\); run it with sudo\n$/],
    [
      ['network', 'setup'],
      /^ERROR: "tart network setup" needs root \(it changes ip_forward, nftables and TAP devices\); run it with sudo\n$/,
    ],
    [['network', 'teardown'], /^ERROR: "tart network teardown" needs root/],
  ] as const) {
    const result = await runAs(1000, [...args]);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, expected);
    assert.doesNotMatch(result.stderr, STACK);
  }
});

test('tart help and tart help COMMAND exit 0', async () => {
  const help = await runAs(0, ['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: tart/);
  const exec = await runAs(0, ['help', 'exec']);
  assert.equal(exec.code, 0);
  assert.match(exec.stdout, /Usage: tart exec/);
});

test('exec with an executor the host cannot run fails once, up front, in doctor words', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-no-executor-'));
  try {
    const firecracker = await runAs(0, ['exec', '--cwd', dir, '--executor', 'firecracker'], {
      FIRECRACKER_BIN: join(dir, 'firecracker'),
    });
    assert.equal(firecracker.code, 1);
    assert.equal(
      firecracker.stderr,
      `ERROR: the firecracker executor cannot run on this host: ${join(dir, 'firecracker')} is absent (or does not run) ` +
        '(fix: install Firecracker (github.com/firecracker-microvm/firecracker releases) or set FIRECRACKER_BIN); ' +
        '"tart doctor" checks this host, "--executor shell" runs without a VM\n',
    );
    const qemu = await runAs(0, ['exec', '--cwd', dir, '--executor', 'qemu'], {
      QEMU_BIN: join(dir, 'qemu-system-x86_64'),
    });
    assert.equal(qemu.code, 1);
    assert.equal(
      qemu.stderr,
      `ERROR: the qemu executor cannot run on this host: ${join(dir, 'qemu-system-x86_64')} is absent (or does not run) ` +
        '(fix: apt-get install qemu-system-x86, or set QEMU_BIN); "tart doctor" checks this host, "--executor shell" runs without a VM\n',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'sudo tart exec in a repository another user owns names git\'s "dubious ownership" and the safe.directory fix',
  { skip: process.getuid?.() !== 0 && 'needs root to hand the repository to another user' },
  async () => {
    const repo = await mkdtemp(join(tmpdir(), 'tart-dubious-repo-'));
    const home = await mkdtemp(join(tmpdir(), 'tart-dubious-home-'));
    try {
      await writeFile(join(repo, '.gitlab-ci.yml'), 'job:\n  script: [echo hi]\n');
      for (const args of [
        ['init', '-q'],
        ['add', '.'],
        ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'c'],
      ])
        await execFileAsync('git', args, { cwd: repo });
      await chown(repo, 65534, 65534);
      const result = await execFileAsync(process.execPath, [TART, 'exec', '--list'], {
        cwd: repo,
        // As under sudo: root, with the invoking user's uid (not the owner's) in SUDO_UID.
        env: { PATH: process.env.PATH, HOME: home, SUDO_UID: '65533', GIT_CONFIG_NOSYSTEM: '1' },
      }).then(
        () => assert.fail('tart exec must refuse'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^ERROR: git refuses the repository at \S+: "dubious ownership"/);
      assert.match(result.stderr, /git config --global --add safe\.directory \//);
      assert.doesNotMatch(result.stderr, /not inside a git work tree/);
      assert.doesNotMatch(result.stderr, STACK);
    } finally {
      await rm(home, { recursive: true, force: true });
      await rm(repo, { recursive: true, force: true });
    }
  },
);
