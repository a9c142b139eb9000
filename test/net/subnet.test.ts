import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGuestSubnet, slotAddresses, slotOfTapName } from '../../src/net/subnet.js';
import { hostResolvers, nameservers } from '../../src/net/dns.js';

describe('the /30 address plan', () => {
  it('derives TAP name, gateway, guest address and MAC from the slot number', () => {
    const subnet = parseGuestSubnet('10.201.0.0/16');
    assert.equal(subnet.slotCount, 16384);
    assert.deepEqual(slotAddresses(subnet, 0), {
      slot: 0,
      tapName: 'tart0',
      gatewayIp: '10.201.0.1',
      guestIp: '10.201.0.2',
      prefixLength: 30,
      mac: '06:00:0a:c9:00:02',
    });
    const last = slotAddresses(subnet, 16383);
    assert.equal(last.gatewayIp, '10.201.255.253');
    assert.equal(last.guestIp, '10.201.255.254');
    assert.equal(last.mac, '06:00:0a:c9:ff:fe');
    assert.ok(last.tapName.length <= 15);
    assert.throws(() => slotAddresses(subnet, 16384), { code: 'NET_BAD_SLOT' });
  });

  it('never gives two slots overlapping addresses, and masks host bits off the subnet', () => {
    const subnet = parseGuestSubnet('192.168.7.77/24');
    assert.equal(subnet.cidr, '192.168.7.0/24');
    const addresses = Array.from({ length: subnet.slotCount }, (_, slot) => slotAddresses(subnet, slot));
    const all = addresses.flatMap((slot) => [slot.gatewayIp, slot.guestIp]);
    assert.equal(new Set(all).size, all.length);
    assert.equal(new Set(addresses.map((slot) => slot.mac)).size, addresses.length);
  });

  it('rejects subnets that are not IPv4 CIDRs between /8 and /30', () => {
    for (const bad of ['10.0.0.0/31', '10.0.0.0', 'fd00::/64', '10.0.0.0/4', '300.1.1.1/16']) {
      assert.throws(() => slotAddresses(parseGuestSubnet(bad), 0), /NET_BAD|must be|not an IPv4/);
    }
  });

  it('recognises only tart<N> as a guest link name', () => {
    assert.equal(slotOfTapName('tart12'), 12);
    assert.equal(slotOfTapName('tart12p'), undefined);
    assert.equal(slotOfTapName('tartbr'), undefined);
  });
});

describe('guest resolvers', () => {
  it('skips loopback stubs and prefers systemd-resolved upstreams', async () => {
    const files: Record<string, string> = {
      '/run/systemd/resolve/resolv.conf': 'nameserver 192.0.2.53\nnameserver 2001:db8::1\n',
      '/etc/resolv.conf': 'nameserver 127.0.0.53\n',
    };
    assert.deepEqual(await hostResolvers(async (path) => files[path]), ['192.0.2.53']);
    assert.deepEqual(
      await hostResolvers(async (path) =>
        path === '/etc/resolv.conf' ? 'nameserver 127.0.0.53\n' : undefined,
      ),
      [],
    );
    assert.deepEqual(nameservers('# c\nnameserver 10.255.255.53\nsearch x\n'), ['10.255.255.53']);
  });
});
