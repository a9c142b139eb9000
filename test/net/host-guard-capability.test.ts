// The host guard's nftables side needs CAP_NET_ADMIN only, not root: an unprivileged daemon
// holding it as an ambient capability (as systemd's AmbientCapabilities= gives it) loads and
// removes the guard table; without it the guard fails closed (HOST_GUARD_FAILED). Run in a netns
// of its own. Starting QEMU as vm_user and its chroot still need root (docs/security.md).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createNetnsSandbox, type NetnsSandbox } from './support/netns.js';

const VM_UID = 61_000 + (process.pid % 4000);

describe('the host guard from a non-root daemon', { skip: process.getuid?.() !== 0 && 'setpriv --reuid needs root' }, () => {
  let sandbox: NetnsSandbox;
  let host: string;
  let dir: string;

  before(async () => {
    sandbox = createNetnsSandbox();
    host = sandbox.add('gc');
    dir = await mkdtemp(join(tmpdir(), 'tart-guard-cap-'));
    await writeFile(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n', { mode: 0o644 });
  });

  after(async () => {
    sandbox?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function guardAsNobody(capabilities: string[]): Record<string, unknown> {
    const fixture = fileURLToPath(new URL('./fixtures/guard-as-user.ts', import.meta.url));
    const caps = capabilities.map((name) => `+${name}`).join(',');
    const setpriv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...(caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : [])];
    const result = sandbox.exec(host, ['env', 'HOME=/tmp', ...setpriv, process.execPath, '--import', 'tsx', fixture, String(VM_UID), join(dir, 'resolv.conf')]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('loads and removes the guard table with CAP_NET_ADMIN alone', () => {
    assert.deepEqual(guardAsNobody(['net_admin']), { loaded: true, afterLeave: false });
  });

  it('fails closed without it', () => {
    assert.deepEqual(guardAsNobody([]), { error: 'HOST_GUARD_FAILED' });
  });
});
