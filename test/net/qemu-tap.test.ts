// A real QEMU VM (TCG) on a TAP made by src/net, inside namespaces this test creates: the guest
// clones from a git server that it can reach only through NAT, and teardown leaves nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { teardownHostNetwork } from '../../src/net/index.js';
import { IMAGE_DIR, requireImage } from '../executor/vm/support/vm-test-env.js';
import { createNetnsSandbox, run, runInNetns, type NetnsSandbox } from './support/netns.js';

describe('QEMU VMs on Tart TAPs', () => {
  let sandbox: NetnsSandbox;
  let host: string;
  let outside: string;
  let dir: string;

  let gitDaemon: ChildProcess | undefined;
  before(async () => {
    await requireImage();
    sandbox = createNetnsSandbox();
    dir = await mkdtemp(join(tmpdir(), 'tart-qemu-tap-'));
    host = sandbox.add('qh');
    outside = sandbox.add('qo');
    run(['ip', 'link', 'add', 'up0', 'netns', host, 'type', 'veth', 'peer', 'name', 'up1', 'netns', outside]);
    sandbox.exec(host, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'up0']);
    sandbox.exec(host, ['ip', 'link', 'set', 'up0', 'up']);
    sandbox.exec(host, ['ip', 'route', 'add', 'default', 'via', '192.0.2.2']);
    sandbox.exec(outside, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'up1']);
    sandbox.exec(outside, ['ip', 'link', 'set', 'up1', 'up']);
    // The same git server on an address in a denied range: the host reaches it, a guest must not.
    sandbox.exec(outside, ['ip', 'addr', 'add', '10.99.0.9/32', 'dev', 'lo']);
    const repo = join(dir, 'repos', 'project.git');
    await mkdir(join(dir, 'work'), { recursive: true });
    await writeFile(join(dir, 'work', 'README'), 'hello through NAT\n');
    const git = (args: string[]) =>
      run(['git', '-C', join(dir, 'work'), '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    git(['init', '-q', '-b', 'main']);
    git(['add', 'README']);
    git(['commit', '-q', '-m', 'first']);
    run(['git', 'clone', '-q', '--bare', join(dir, 'work'), repo]);
    const daemon = spawn(
      'ip',
      [
        'netns',
        'exec',
        outside,
        'git',
        'daemon',
        '--export-all',
        `--base-path=${join(dir, 'repos')}`,
        '--port=9418',
        '--reuseaddr',
      ],
      // Its own process group: `git daemon` runs git-daemon as a child, which must go too.
      { stdio: 'ignore', detached: true },
    );
    gitDaemon = daemon;
    for (
      let tries = 0;
      sandbox.exec(host, ['git', 'ls-remote', 'git://10.99.0.9/project.git']).code !== 0;
      tries += 1
    ) {
      if (tries > 50) throw new Error('git daemon did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    // Its whole group: an `after` registered inside `before` would run as soon as `before` ends.
    if (gitDaemon?.pid !== undefined) process.kill(-gitDaemon.pid, 'SIGKILL');
    sandbox?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('clones through NAT, cannot reach a denied range or another concurrent VM, and leaves no TAP, route or table behind', async () => {
    const stateDir = join(dir, 'state');
    const runtimeRoot = join(dir, 'runtime');
    await mkdir(runtimeRoot, { recursive: true, mode: 0o700 });
    const script = fileURLToPath(new URL('./fixtures/tap-vm-clone.ts', import.meta.url));
    const output = await runInNetns(host, [
      process.execPath,
      '--import',
      'tsx',
      script,
      stateDir,
      runtimeRoot,
      IMAGE_DIR,
      'git://192.0.2.2/project.git',
    ]);
    const summary = JSON.parse(output) as {
      address: { stdout: string };
      clone: { exitCode: number; stdout: string };
      denied: { stdout: string };
      addresses: string[];
      peer: { stdout: string };
      peerBack: { stdout: string };
    };
    assert.match(summary.address.stdout, /inet 10\.203\.0\.\d+\/30/);
    assert.equal(summary.clone.exitCode, 0, summary.clone.stdout);
    assert.equal(summary.clone.stdout, 'hello through NAT\n');
    assert.match(summary.denied.stdout, /rc=124/, 'the denied address times out (dropped)');
    assert.equal(new Set(summary.addresses).size, 2, `two guests on two /30s: ${summary.addresses.join(', ')}`);
    assert.match(summary.peer.stdout, /rc=124/, 'one guest cannot reach the other (dropped)');
    assert.match(summary.peerBack.stdout, /rc=124/, 'nor the other way round');
    const links = sandbox.exec(host, ['ip', '-o', 'link', 'show']).stdout;
    assert.doesNotMatch(links, /tart\d+/, 'the TAP is gone once the VM is closed');
    await teardownHostNetwork(
      { bridge: 'tartbr', subnet: '10.203.0.0/24', allowHosts: [], denyRanges: [] },
      { netns: host, stateDir },
    );
    assert.equal(sandbox.exec(host, ['nft', 'list', 'tables']).stdout.trim(), '');
    assert.doesNotMatch(
      sandbox.exec(host, ['ip', 'route', 'show']).stdout,
      /10\.203\.|tart/,
      'no guest route is left',
    );
  });
});

