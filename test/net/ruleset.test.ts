// The generated nft script: accepted by the real nft (inside a throw-away namespace) and shaped
// as the isolation policy says.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRuleset } from '../../src/net/ruleset.js';
import { createNetnsSandbox, type NetnsSandbox } from './support/netns.js';

describe('the inet tart ruleset', () => {
  let sandbox: NetnsSandbox;
  let netns: string;
  before(() => {
    sandbox = createNetnsSandbox();
    netns = sandbox.add('rules');
  });
  after(() => sandbox.dispose());

  const input = {
    subnet: '10.201.0.0/16',
    denyRanges: ['10.0.0.1/8', '172.16.0.0/12', 'fd00::/8', '10.1.0.0/16'],
    allowHosts: ['10.1.2.3', '10.1.2.4:443', '[fd00::1]:22'],
    dns: ['192.0.2.53', 'not-an-ip'],
  };

  it('loads into nft, twice (idempotent), with overlapping deny ranges merged', () => {
    const script = buildRuleset(input);
    for (let i = 0; i < 2; i += 1) {
      const result = sandbox.exec(netns, ['nft', '-f', '-'], script);
      assert.equal(result.code, 0, result.stderr);
    }
    const listed = sandbox.exec(netns, ['nft', 'list', 'table', 'inet', 'tart']).stdout;
    assert.match(listed, /169\.254\.0\.0\/16/);
    assert.match(listed, /10\.0\.0\.0\/8/);
    assert.match(listed, /10\.1\.2\.4 \. 443/);
    assert.match(listed, /masquerade/);
    assert.doesNotMatch(listed, /fd00/);
  });

  it('drops guest-to-guest traffic before anything is accepted, and keeps IPv6 out', () => {
    const forward = buildRuleset(input).split('chain forward')[1] ?? '';
    const lines = forward.split('\n').map((line) => line.trim());
    assert.equal(lines.indexOf('iifname "tart*" oifname "tart*" drop'), 2);
    assert.ok(lines.indexOf('meta nfproto ipv6 drop') < lines.indexOf('accept'));
    assert.ok(lines.indexOf('ip daddr @deny_ranges drop') < lines.indexOf('accept'));
  });
});
