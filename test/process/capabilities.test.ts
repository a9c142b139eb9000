// Capabilities a non-root daemon holds as ambient ones (the Debian unit's AmbientCapabilities=)
// never reach a VMM, a shell job or a tool: they start through setpriv, which clears them; only
// src/net's ip and nft keep them. Checked for real with a daemon stand-in run by setpriv as
// nobody with CAP_NET_ADMIN and CAP_NET_RAW (before, every child held both).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parseCapabilitySet, withoutInheritedCapabilities } from '../../src/process/capabilities.js';

const execFileAsync = promisify(execFile);
const NET_ADMIN_AND_RAW = 0x3000n;

describe('withoutInheritedCapabilities', () => {
  it('starts the program as it is when the daemon has no ambient capability (root, or a plain user)', () => {
    assert.deepEqual(withoutInheritedCapabilities('qemu-system-x86_64', ['-S'], 0n), ['qemu-system-x86_64', ['-S']]);
  });

  it('starts it through setpriv, clearing the inheritable and ambient sets, when the daemon has some', () => {
    assert.deepEqual(withoutInheritedCapabilities('sh', ['-c', 'exit 0'], NET_ADMIN_AND_RAW), [
      'setpriv',
      ['--inh-caps=-all', '--ambient-caps=-all', '--', 'sh', '-c', 'exit 0'],
    ]);
  });

  it('reads a capability set from a status text', () => {
    const status = 'Name:\tnode\nCapInh:\t0000000000003000\nCapAmb:\t0000000000003000\n';
    assert.equal(parseCapabilitySet(status, 'CapAmb'), NET_ADMIN_AND_RAW);
    assert.equal(parseCapabilitySet(status, 'CapBnd'), 0n);
  });
});

describe('a daemon with ambient capabilities', { skip: process.getuid?.() !== 0 && 'setpriv --reuid needs root' }, () => {
  it('starts VMMs, shell jobs and tools with none of them, and ip/nft with CAP_NET_ADMIN and CAP_NET_RAW', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/print-child-capabilities.ts', import.meta.url));
    const { stdout } = await execFileAsync(
      'setpriv',
      [
        '--reuid=65534', '--regid=65534', '--clear-groups',
        '--inh-caps=+net_admin,+net_raw', '--ambient-caps=+net_admin,+net_raw',
        process.execPath, '--import', 'tsx', fixture,
      ],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { PATH: process.env.PATH, HOME: '/tmp' } },
    );
    const { net, ...seen } = JSON.parse(stdout) as { vmm: string; shell: string; tool: string; net: string };
    assert.deepEqual(Object.keys(seen), ['vmm', 'shell', 'tool']);
    assert.equal(parseCapabilitySet(net, 'CapEff'), NET_ADMIN_AND_RAW, `src/net's commands keep them:\n${net}`);
    assert.equal(parseCapabilitySet(net, 'CapAmb'), NET_ADMIN_AND_RAW);
    for (const [seam, status] of Object.entries(seen)) {
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) {
        assert.equal(parseCapabilitySet(status, set), 0n, `${seam} child: ${set} in\n${status}`);
      }
    }
  });
});
