// The nftables policy proven with real traffic. Topology, all in namespaces this test creates:
//   guest1, guest2 ──veth (stands in for the TAP)── host ──veth── outside (192.0.2.2)
// "outside" also owns 10.99.0.53 (a resolver in a denied range), 10.99.0.80 (an allow_hosts
// exception) and 169.254.169.254 (metadata), and knows no route to the guest subnet, so any
// answer a guest gets from it went through NAT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  setupHostNetwork,
  setupVmNetwork,
  teardownHostNetwork,
  type VmNetworkLease,
} from '../../src/net/index.js';
import { vethPeerName } from '../../src/net/links.js';
import type { NetworkConfig } from '../../src/config/types.js';
import { DEFAULT_DENY_RANGES } from '../../src/config/schema.js';
import { createNetnsSandbox, run, type NetnsSandbox } from './support/netns.js';

const config: NetworkConfig = {
  bridge: 'tartbr',
  subnet: '10.201.0.0/16',
  allowHosts: ['10.99.0.80:8080'],
  denyRanges: DEFAULT_DENY_RANGES,
};

describe('nftables isolation with real traffic', () => {
  let sandbox: NetnsSandbox;
  let host: string;
  let outside: string;
  let guest1: string;
  let guest2: string;
  let stateDir: string;
  const vms: VmNetworkLease[] = [];

  before(async () => {
    sandbox = createNetnsSandbox();
    stateDir = await mkdtemp(join(tmpdir(), 'tart-net-'));
    host = sandbox.add('h');
    outside = sandbox.add('o');
    guest1 = sandbox.add('g1');
    guest2 = sandbox.add('g2');
    run(['ip', 'link', 'add', 'up0', 'netns', host, 'type', 'veth', 'peer', 'name', 'up1', 'netns', outside]);
    sandbox.exec(host, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'up0']);
    sandbox.exec(host, ['ip', 'link', 'set', 'up0', 'up']);
    sandbox.exec(host, ['ip', 'route', 'add', 'default', 'via', '192.0.2.2']);
    sandbox.exec(outside, ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'up1']);
    sandbox.exec(outside, ['ip', 'link', 'set', 'up1', 'up']);
    for (const address of ['10.99.0.53/32', '10.99.0.80/32', '169.254.169.254/32']) {
      sandbox.exec(outside, ['ip', 'addr', 'add', address, 'dev', 'lo']);
    }
    await sandbox.start(outside, 'http-whoami.mjs', ['0.0.0.0', '8080']);
    await sandbox.start(outside, 'http-whoami.mjs', ['0.0.0.0', '80']);
    // Bound to the resolver's address: a 0.0.0.0 UDP socket would answer from 192.0.2.2.
    await sandbox.start(outside, 'udp-echo.mjs', ['10.99.0.53', '53']);
    await sandbox.start(host, 'http-whoami.mjs', ['0.0.0.0', '8081']);

    await setupHostNetwork(config, { netns: host, stateDir, dns: ['10.99.0.53'] });
    for (const [index, guest] of [guest1, guest2].entries()) {
      const vm = await setupVmNetwork({ vmId: `vm-${index}`, config, netns: host, stateDir, link: 'veth' });
      vms.push(vm);
      const peer = vethPeerName(vm.tapName);
      sandbox.exec(host, ['ip', 'link', 'set', peer, 'netns', guest]);
      sandbox.exec(guest, ['ip', 'link', 'set', peer, 'address', vm.mac]);
      sandbox.exec(guest, ['ip', 'addr', 'add', vm.guest.address, 'dev', peer]);
      sandbox.exec(guest, ['ip', 'link', 'set', peer, 'up']);
      sandbox.exec(guest, ['ip', 'route', 'add', 'default', 'via', vm.gatewayIp]);
    }
    await sandbox.start(guest2, 'http-whoami.mjs', ['0.0.0.0', '8082']);
  });

  after(async () => {
    for (const vm of vms) await vm.teardown();
    if (host !== undefined) await teardownHostNetwork(config, { netns: host, stateDir });
    sandbox.dispose();
    await rm(stateDir, { recursive: true, force: true });
  });

  const fetchFrom = (netns: string, url: string) =>
    sandbox.exec(netns, ['curl', '-sS', '--max-time', '1.5', url]);

  it('lets a guest reach an outside HTTP server, masqueraded behind the host', () => {
    const result = fetchFrom(guest1, 'http://192.0.2.2:8080/');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '192.0.2.1');
  });

  it('keeps the host services a guest may not use unreachable (gateway and uplink addresses)', () => {
    assert.equal(fetchFrom(host, 'http://127.0.0.1:8081/').code, 0, 'the host service is up');
    assert.notEqual(fetchFrom(guest1, `http://${vms[0]?.gatewayIp}:8081/`).code, 0);
    assert.notEqual(fetchFrom(guest1, 'http://192.0.2.1:8081/').code, 0);
  });

  it('keeps guests from reaching each other, while the host reaches both', () => {
    const guest2Url = `http://${vms[1]?.guestIp}:8082/`;
    assert.equal(fetchFrom(host, guest2Url).code, 0, 'the host reaches a guest (as SSH does)');
    assert.notEqual(fetchFrom(guest1, guest2Url).code, 0);
  });

  it('blocks the metadata address 169.254.169.254', () => {
    assert.equal(fetchFrom(host, 'http://169.254.169.254/').code, 0, 'the metadata stand-in is up');
    assert.notEqual(fetchFrom(guest1, 'http://169.254.169.254/').code, 0);
  });

  it('blocks deny_ranges but lets DNS through to the configured resolver and honours allow_hosts', () => {
    assert.notEqual(fetchFrom(guest1, 'http://10.99.0.53:8080/').code, 0, 'TCP to a denied range');
    const dns = sandbox.exec(guest1, [process.execPath, fixture('udp-ask.mjs'), '10.99.0.53', '53']);
    assert.equal(dns.stdout, 'echo:ping');
    const allowed = fetchFrom(guest1, 'http://10.99.0.80:8080/');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.notEqual(fetchFrom(guest1, 'http://10.99.0.80:80/').code, 0, 'only the allowed port');
  });

  it("drops packets a guest sends with another guest's source address", () => {
    const peer = vethPeerName(vms[0]?.tapName ?? '');
    sandbox.exec(guest1, ['ip', 'addr', 'add', `${vms[1]?.guestIp}/32`, 'dev', peer]);
    try {
      const spoofed = sandbox.exec(guest1, [
        'curl',
        '-sS',
        '--max-time',
        '1.5',
        '--interface',
        vms[1]?.guestIp ?? '',
        'http://192.0.2.2:8080/',
      ]);
      assert.notEqual(spoofed.code, 0);
    } finally {
      sandbox.exec(guest1, ['ip', 'addr', 'del', `${vms[1]?.guestIp}/32`, 'dev', peer]);
    }
  });
});

function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}
