// tart doctor's vm-pool line: what idle_count asks for, and the pooled VMs on the host by state;
// VMs of a daemon that is gone are a warning (the next start reaps them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { judgePool } from '../../src/doctor/pool-check.js';

const config = parseConfig(
  [
    '[[runners]]',
    'name = "vm"',
    'url = "https://gitlab.example.com"',
    'token = "glrt-x"',
    'executor = "qemu"',
    '[runners.vm]',
    'idle_count = 2',
    'idle_time = 600',
  ].join('\n'),
  '/etc/tart/config.toml',
  { imageDir: '/images/current', hostname: 'test' },
);

describe('tart doctor: the warm pool line', () => {
  it("names each runner's idle_count and idle_time, and counts live pooled VMs by state", () => {
    const result = judgePool(config, [
      { vmId: 'pool-a', state: 'idle', ownerAlive: true },
      { vmId: 'pool-b', state: 'in-use', ownerAlive: true },
    ]);
    assert.equal(result.verdict, 'ok');
    assert.equal(result.fact, 'vm idle_count=2 idle_time=600s; pooled VMs on this host: 1 idle, 1 in use');
  });

  it('warns about pooled VMs a stopped daemon left, and says the next start reaps them', () => {
    const result = judgePool(config, [{ vmId: 'pool-a', state: 'idle', ownerAlive: false }]);
    assert.equal(result.verdict, 'warn');
    assert.match(result.fact, /0 idle, 0 in use, 1 left by a stopped daemon/);
    assert.match(result.fix ?? '', /reaps them/);
  });

  it('says when no pool is configured', () => {
    assert.equal(judgePool(undefined, []).fact, 'no warm pool configured; no pooled VMs on this host');
  });
});
