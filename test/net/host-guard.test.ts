// The host guard with real nftables and real traffic, in namespaces this test creates: "host"
// (the runner's machine, with servers on its loopback and on its own interface address) and
// "outside" (the world, 192.0.2.2). Processes run as an unprivileged uid stand in for QEMU.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../src/errors.js';
import { endpointsOf, enterHostGuard, hostGuardLoaded } from '../../src/net/host-guard.js';
import { buildHostGuardRuleset } from '../../src/net/host-guard-ruleset.js';
import { createNetnsSandbox, type NetnsSandbox } from './support/netns.js';

/**
 * No account has it: a uid of the guard's own, as `vm_user = "<uid>:<gid>"` allows; one per test
 * process, since the guard keeps its table while any process runs as that uid.
 */
const VM_UID = 60_000 + (process.pid % 5000);

describe('the host guard', () => {
  let sandbox: NetnsSandbox;
  let host: string;
  let outside: string;
  let dir: string;
  let resolvConf: string;

  before(async () => {
    sandbox = createNetnsSandbox();
    dir = await mkdtemp(join(tmpdir(), 'tart-host-guard-'));
    resolvConf = join(dir, 'resolv.conf');
    await writeFile(resolvConf, 'nameserver 127.0.0.53\n');
    host = sandbox.add('gh');
    outside = sandbox.add('go');
    sandbox.link(host, outside);
    await sandbox.start(host, 'http-whoami.mjs', ['127.0.0.1', '8080']); // a private service
    await sandbox.start(host, 'http-whoami.mjs', ['127.0.0.1', '8081']); // the GitLab
    await sandbox.start(host, 'http-whoami.mjs', ['192.0.2.1', '8082']); // on the host's own NIC
    await sandbox.start(host, 'http-whoami.mjs', ['::1', '8083']);
    await sandbox.start(outside, 'http-whoami.mjs', ['192.0.2.2', '8080']); // the world
    // A cloud metadata service, link-local, beyond the host.
    sandbox.exec(outside, ['ip', 'addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
    sandbox.exec(host, ['ip', 'route', 'add', '169.254.169.254/32', 'via', '192.0.2.2']);
    await sandbox.start(outside, 'http-whoami.mjs', ['169.254.169.254', '8080']);
  });

  after(async () => {
    sandbox?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const reach = (url: string, uid?: number) => {
    const curl = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', url];
    const argv = uid === undefined ? curl : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...curl];
    return sandbox.exec(host, argv).stdout === '200';
  };

  it("rejects the VM uid's connections to every host address except GitLab's port; other uids and the world stay reachable", async () => {
    assert.ok(reach('http://127.0.0.1:8080/', VM_UID), 'reachable before the guard (what the guard fixes)');
    const leave = await enterHostGuard(VM_UID, await endpointsOf('http://127.0.0.1:8081'), {
      netns: host,
      resolvConf,
    });
    try {
      assert.equal(reach('http://127.0.0.1:8080/', VM_UID), false, 'a private loopback service');
      assert.equal(reach('http://127.0.0.2:8080/', VM_UID), false, 'all of 127.0.0.0/8');
      assert.equal(reach('http://192.0.2.1:8082/', VM_UID), false, "the host's own interface address");
      assert.equal(reach('http://[::1]:8083/', VM_UID), false, 'IPv6 loopback');
      assert.equal(reach('http://127.0.0.1:8081/', VM_UID), true, 'the GitLab endpoint');
      assert.equal(reach('http://192.0.2.2:8080/', VM_UID), true, 'outbound to the world');
      assert.equal(reach('http://169.254.169.254:8080/', VM_UID), false, 'cloud metadata (link-local), as in tap mode');
      assert.equal(reach('http://169.254.169.254:8080/'), true, 'which the host itself still reaches');
      assert.equal(reach('http://127.0.0.1:8080/'), true, 'another uid is not affected');
      const listed = sandbox.exec(host, ['nft', 'list', 'table', 'inet', `tart_host_guard_${VM_UID}`]).stdout;
      assert.match(listed, /127\.0\.0\.53/, "slirp's DNS forwarder may reach the host's resolver");
    } finally {
      await leave();
    }
    assert.equal(await hostGuardLoaded(VM_UID, { netns: host }), false, 'the last VM out removes the table');
    assert.ok(reach('http://127.0.0.1:8080/', VM_UID));
  });

  it("keeps the table, with every VM's GitLab open, until the last VM leaves; leaving twice is harmless", async () => {
    const options = { netns: host, resolvConf };
    const first = await enterHostGuard(VM_UID, await endpointsOf('http://localhost:8081'), options);
    const second = await enterHostGuard(VM_UID, await endpointsOf('http://127.0.0.1:8080'), options);
    assert.equal(reach('http://127.0.0.1:8080/', VM_UID), true, "the second runner's GitLab");
    await second();
    await second();
    assert.equal(await hostGuardLoaded(VM_UID, options), true);
    assert.equal(reach('http://127.0.0.1:8080/', VM_UID), false, 'closed again once its VM left');
    assert.equal(reach('http://127.0.0.1:8081/', VM_UID), true);
    await first();
    assert.equal(await hostGuardLoaded(VM_UID, options), false);
  });

  it('fails with HOST_GUARD_FAILED, never silently, when the table cannot be loaded', async () => {
    await assert.rejects(
      enterHostGuard(VM_UID, [], { netns: `${host}-missing`, resolvConf }),
      (error: unknown) =>
        hasCode(error, 'HOST_GUARD_FAILED') && /host_guard = false/.test((error as Error).message),
    );
  });

  it('loads idempotently and names loopback GitLabs on both loopback addresses', async () => {
    const script = buildHostGuardRuleset({
      uid: VM_UID,
      allow: await endpointsOf('https://[::1]'),
      dns: ['10.0.0.53', 'fd00::53'],
    });
    for (let i = 0; i < 2; i += 1) assert.equal(sandbox.exec(host, ['nft', '-f', '-'], script).code, 0);
    const listed = sandbox.exec(host, ['nft', 'list', 'table', 'inet', `tart_host_guard_${VM_UID}`]).stdout;
    assert.match(listed, /127\.0\.0\.1 \. 443/);
    assert.match(listed, /::1 \. 443/);
    assert.equal(sandbox.exec(host, ['nft', 'delete', 'table', 'inet', `tart_host_guard_${VM_UID}`]).code, 0);
  });
});
