// Slot leases: collision-free across concurrent processes, and within one process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimSlot, currentHolder, listLeases, releaseSlot } from '../../src/net/leases.js';

describe('slot leases', () => {
  let stateDir: string;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tart-leases-'));
  });
  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('never gives one slot to two concurrent processes', async () => {
    const module = new URL('../../src/net/leases.ts', import.meta.url).href;
    const script = `const { claimSlot, currentHolder } = await import(${JSON.stringify(module)});
const holder = await currentHolder();
const slots = await Promise.all(Array.from({ length: 16 }, (_, i) => claimSlot({ stateDir: ${JSON.stringify(stateDir)}, slotCount: 64, vmId: 'same-id', holder })));
console.log(JSON.stringify(slots.map((lease) => lease.slot)));`;
    const outputs = await Promise.all(Array.from({ length: 4 }, () => runNode(script)));
    const slots = outputs.flatMap((output) => JSON.parse(output) as number[]);
    assert.equal(slots.length, 64);
    assert.equal(new Set(slots).size, 64, 'every slot handed out once');
    await assert.rejects(
      claimSlot({ stateDir, slotCount: 64, vmId: 'one-more', holder: await currentHolder() }),
      (error: unknown) => (error as { code?: string }).code === 'NET_NO_FREE_SLOT',
    );
    assert.equal((await listLeases(stateDir)).length, 64);
    for (const slot of slots) await releaseSlot(stateDir, slot);
    assert.deepEqual(await readdir(join(stateDir, 'leases')), []);
  });

  it('skips a slot the caller finds unusable and frees it', async () => {
    const holder = await currentHolder();
    const lease = await claimSlot({
      stateDir,
      slotCount: 4,
      vmId: 'x',
      holder,
      isUsable: async (slot) => slot === 3,
    });
    assert.equal(lease.slot, 3);
    assert.deepEqual(
      (await listLeases(stateDir)).map((entry) => entry.slot),
      [3],
    );
    await releaseSlot(stateDir, 3);
  });
});

function runNode(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(stderr))));
  });
}
