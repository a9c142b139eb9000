import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, locateKeys } from '../../src/config/locate-keys.js';

const SOURCE = `# comment with key = 1
concurrent = 2
text = """
fake = 3
[[runners]]
"""

[[runners]]
  name = "a"
  environment = [
    "A=1", # comment
    "B=2",
  ]
  vm.memory_mb = 512
  [runners.vm]
    vcpus = 2

[[runners]]
  "name" = 'b'
  firecracker = { binary = "fc",
    uid = 5 }
  [runners.network]
    allow_hosts = ["10.0.0.1:443"]
`;

test('every key, array item and table header maps to the line it is written on', () => {
  const lines = locateKeys(SOURCE);
  assert.equal(lines.get('concurrent'), 2);
  assert.equal(lines.get('text'), 3);
  assert.equal(lines.get('fake'), undefined, 'keys inside a multi-line string are not keys');
  assert.equal(lines.get('runners'), 8);
  assert.equal(lines.get('runners[0]'), 8);
  assert.equal(lines.get('runners[0].name'), 9);
  assert.equal(lines.get('runners[0].environment'), 10);
  assert.equal(lines.get('runners[0].environment[1]'), 12);
  assert.equal(lines.get('runners[0].vm'), 14);
  assert.equal(lines.get('runners[0].vm.memory_mb'), 14);
  assert.equal(lines.get('runners[0].vm.vcpus'), 16);
  assert.equal(lines.get('runners[1]'), 18);
  assert.equal(lines.get('runners[1].name'), 19);
  assert.equal(lines.get('runners[1].firecracker.binary'), 20);
  assert.equal(lines.get('runners[1].firecracker.uid'), 21);
  assert.equal(lines.get('runners[1].network'), 22);
  assert.equal(lines.get('runners[1].network.allow_hosts[0]'), 23);
});

test('a path that is not written resolves to its nearest written ancestor', () => {
  const lines = locateKeys(SOURCE);
  assert.equal(lineOf(lines, 'runners[1].token'), 18);
  assert.equal(lineOf(lines, 'runners[1].network.deny_ranges'), 22);
  assert.equal(lineOf(lines, 'listen_address'), undefined);
});
