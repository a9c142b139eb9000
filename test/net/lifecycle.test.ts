// setup/teardown of the host network and of VM links, with real TAPs, inside a namespace this
// test creates: teardown must leave no TAP, no route, no nft table, and ip_forward as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  reapStaleLeases,
  releaseRecordedLease,
  setupHostNetwork,
  setupVmNetwork,
  teardownHostNetwork,
  type TapLeaseRecord,
} from '../../src/net/index.js';
import type { NetworkConfig } from '../../src/config/types.js';
import { waitFor } from '../support/wait-for.js';
import { createNetnsSandbox, type NetnsSandbox } from './support/netns.js';
import { spawn, spawnSync } from 'node:child_process';

const config: NetworkConfig = {
  bridge: 'tartbr',
  subnet: '10.202.0.0/24',
  allowHosts: [],
  denyRanges: ['10.0.0.0/8'],
};

describe('network setup and teardown', () => {
  let sandbox: NetnsSandbox;
  let netns: string;
  let stateDir: string;

  before(async () => {
    sandbox = createNetnsSandbox();
    netns = sandbox.add('life');
    stateDir = join(await mkdtemp(join(tmpdir(), 'tart-net-')), 'state');
  });

  after(async () => {
    sandbox.dispose();
    await rm(join(stateDir, '..'), { recursive: true, force: true });
  });

  const links = () =>
    sandbox
      .exec(netns, ['ip', '-o', 'link', 'show'])
      .stdout.trim()
      .split('\n')
      .map((line) => line.split(': ')[1]);
  const routes = () => sandbox.exec(netns, ['ip', 'route', 'show']).stdout.trim();
  const tables = () => sandbox.exec(netns, ['nft', 'list', 'tables']).stdout.trim();
  const ipForward = () => sandbox.exec(netns, ['cat', '/proc/sys/net/ipv4/ip_forward']).stdout.trim();

  it('creates real TAPs with /30 routes and removes every trace again', async () => {
    assert.equal(ipForward(), '0');
    await setupHostNetwork(config, { netns, stateDir, dns: ['192.0.2.53'] });
    assert.equal(tables(), 'table inet tart');
    assert.equal(ipForward(), '1');
    const vms = await Promise.all(
      ['a', 'b', 'c'].map((vmId) => setupVmNetwork({ vmId, config, netns, stateDir })),
    );
    for (const vm of vms) {
      const details = sandbox.exec(netns, ['ip', '-d', '-o', 'link', 'show', 'dev', vm.tapName]).stdout;
      assert.match(details, /tun type tap/);
      assert.match(routes(), new RegExp(`${vm.guestIp.replace(/\.\d+$/, '')}\\.\\d+/30 dev ${vm.tapName}`));
      assert.equal(vm.prefixLength, 30);
      assert.deepEqual(vm.dns, ['192.0.2.53']);
      assert.deepEqual(vm.guest, { address: `${vm.guestIp}/30`, gateway: vm.gatewayIp, dns: ['192.0.2.53'] });
    }
    await vms[0]?.teardown();
    await vms[0]?.teardown();
    assert.equal(links().length, 3, 'lo and two TAPs');
    await teardownHostNetwork(config, { netns, stateDir });
    await teardownHostNetwork(config, { netns, stateDir });
    assert.deepEqual(links(), ['lo']);
    assert.equal(routes(), '');
    assert.equal(tables(), '');
    assert.equal(ipForward(), '0', 'ip_forward restored');
  });

  it('sets the host network up on demand when a VM asks first (fail closed)', async () => {
    const vm = await setupVmNetwork({ vmId: 'first', config, netns, stateDir, dns: ['192.0.2.53'] });
    assert.equal(tables(), 'table inet tart');
    await vm.teardown();
    await teardownHostNetwork(config, { netns, stateDir });
    assert.deepEqual(links(), ['lo']);
  });

  it('reaps the TAPs of leases whose process is gone and leaves live ones alone', async () => {
    const live = await setupVmNetwork({ vmId: 'live', config, netns, stateDir, dns: [] });
    // A lease held by a process that has exited: claim through a short-lived child.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', claimScript(netns, stateDir)], {
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    const orphan = child.stdout.trim();
    assert.ok(links().includes(orphan), `the orphan ${orphan} exists before reaping`);
    const reaped = await reapStaleLeases({ netns, stateDir });
    assert.equal(reaped.length, 1);
    assert.ok(!links().includes(orphan));
    assert.ok(links().includes(live.tapName));
    assert.deepEqual((await readdir(join(stateDir, 'leases'))).sort(), [`${live.slot}.json`]);
    await live.teardown();
    await teardownHostNetwork(config, { netns, stateDir });
  });

  it("releases a VM's lease from another process through its record, and the owner's own release then spares the slot's next lease", async () => {
    // The owner: a process that sets a VM's network up, prints its record, and tears it down on request.
    const owner = spawn(process.execPath, ['--import', 'tsx', '-e', holdScript(netns, stateDir)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    owner.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ownerExited = new Promise<number | null>((resolve) => owner.once('exit', resolve));
    await waitFor(() => output.includes('\n') || owner.exitCode !== null, 30_000, 'the owner to set up');
    const record = JSON.parse(output) as TapLeaseRecord;
    assert.equal(record.lease.holder.pid, owner.pid, 'the lease names the owner process');
    assert.ok(links().includes(record.tapName));

    await releaseRecordedLease(record);
    await releaseRecordedLease(record);
    assert.ok(!links().includes(record.tapName), 'the TAP is gone');
    assert.deepEqual(await readdir(join(stateDir, 'leases')), [], 'the slot is free');

    // The same VM id starts its slot search at the same slot: the next VM gets the freed slot.
    const next = await setupVmNetwork({ vmId: record.lease.vmId, config, netns, stateDir, dns: [] });
    assert.equal(next.slot, record.lease.slot);
    owner.stdin.end();
    assert.equal(await ownerExited, 0);
    assert.ok(links().includes(next.tapName), "the owner's late release left the next VM's TAP alone");
    assert.deepEqual(await readdir(join(stateDir, 'leases')), [`${next.slot}.json`]);
    await next.teardown();
    assert.ok(!links().includes(next.tapName));
    await teardownHostNetwork(config, { netns, stateDir });
  });
});

// Sets a VM's network up, prints its lease record as one JSON line, and tears it down once stdin ends.
function holdScript(netns: string, stateDir: string): string {
  const module = new URL('../../src/net/index.ts', import.meta.url).href;
  return `const { setupVmNetwork } = await import(${JSON.stringify(module)});
const vm = await setupVmNetwork({ vmId: 'handed-over', config: ${JSON.stringify(config)}, netns: ${JSON.stringify(netns)}, stateDir: ${JSON.stringify(stateDir)}, dns: [] });
console.log(JSON.stringify(vm.record));
process.stdin.resume();
process.stdin.on('end', async () => { await vm.teardown(); process.exit(0); });`;
}

function claimScript(netns: string, stateDir: string): string {
  const module = new URL('../../src/net/index.ts', import.meta.url).href;
  return `const { setupVmNetwork } = await import(${JSON.stringify(module)});
const vm = await setupVmNetwork({ vmId: 'orphan', config: ${JSON.stringify(config)}, netns: ${JSON.stringify(netns)}, stateDir: ${JSON.stringify(stateDir)} });
console.log(vm.tapName);`;
}
