// `tart network setup|teardown` and `tart doctor` through the real CLI program, inside a
// namespace this test creates.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, executeProgram } from '../../src/cli/main.js';
import { createCliContext } from '../../src/cli/context.js';
import { registerNetworkCommand } from '../../src/cli/commands/network.js';
import { registerDoctorCommand } from '../../src/cli/commands/doctor.js';
import { setupVmNetwork } from '../../src/net/index.js';
import { DEFAULT_NETWORK_CONFIG } from '../../src/net/host-config.js';
import { createNetnsSandbox, type NetnsSandbox } from './support/netns.js';

async function tart(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const context = createCliContext({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
  });
  const program = buildProgram(context);
  // main.ts registers these once the lead wires them in; until then, register them here.
  if (!program.commands.some((command) => command.name() === 'network')) registerNetworkCommand(program);
  if (!program.commands.some((command) => command.name() === 'doctor')) registerDoctorCommand(program);
  const code = await executeProgram(program, args, context);
  return { code, stdout, stderr };
}

describe('tart network', () => {
  let sandbox: NetnsSandbox;
  let netns: string;
  let dir: string;
  before(async () => {
    sandbox = createNetnsSandbox();
    netns = sandbox.add('cli');
    dir = await mkdtemp(join(tmpdir(), 'tart-netcli-'));
  });
  after(async () => {
    sandbox.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('sets up idempotently and tears down every TAP and the table', async () => {
    const common = ['--config', join(dir, 'absent.toml')];
    const flags = ['--netns', netns, '--state-dir', join(dir, 'state')];
    for (let i = 0; i < 2; i += 1) {
      const setup = await tart([...common, 'network', 'setup', ...flags, '--dns', '192.0.2.53']);
      assert.equal(setup.code, 0, setup.stderr);
      assert.match(setup.stdout, /network ready: subnet=10\.201\.0\.0\/16 table=inet tart dns=192\.0\.2\.53/);
    }
    await setupVmNetwork({
      vmId: 'left-running',
      config: DEFAULT_NETWORK_CONFIG,
      netns,
      stateDir: join(dir, 'state'),
    });
    sandbox.exec(netns, ['ip', 'tuntap', 'add', 'dev', 'tart999', 'mode', 'tap']);
    for (let i = 0; i < 2; i += 1) {
      const teardown = await tart([...common, 'network', 'teardown', ...flags]);
      assert.equal(teardown.code, 0, teardown.stderr);
    }
    assert.equal(
      sandbox.exec(netns, ['ip', '-o', 'link', 'show']).stdout.trim().split('\n').length,
      1,
      'only lo is left',
    );
    assert.equal(sandbox.exec(netns, ['nft', 'list', 'tables']).stdout.trim(), '');
  });

  it('tart doctor prints one verdict per line and exits 0 here for the QEMU path', async () => {
    const result = await tart(['--config', join(dir, 'absent.toml'), 'doctor']);
    const lines = result.stdout.trim().split('\n');
    assert.ok(
      lines.every((line) => /^(ok|warn|fail) +[a-z-]+ +\S/.test(line)),
      result.stdout,
    );
    assert.ok(
      lines.some((line) => /^warn +kvm +KVM is PVM-only/.test(line)),
      result.stdout,
    );
    assert.equal(result.code, 0, result.stdout);
  });
});
