// Per-job disks (src/vmm/disks.ts, used by the QEMU driver): the seed tar parsed back with
// tar-stream, its modes and padding, and a scratch disk that allocates nothing up front.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateVmKeys } from '../../../src/guest/ssh/keys.js';
import { createScratchDisk, createSeedDisk, networkEnv } from '../../../src/vmm/disks.js';
import { SEED_FILES, USER_MODE_NETWORK } from '../../../src/vmm/guest-contract.js';
import { EXTRA_SEED_FILES } from '../../../src/image/guest-init.js';
import { readTar } from '../../support/read-tar.js';

describe('per-job disks', () => {
  let dir: string;
  const keys = generateVmKeys('disk-test');
  const seed = {
    authorizedKeys: keys.client.publicKey,
    hostPrivateKey: keys.host.privateKey,
    hostPublicKey: keys.host.publicKey,
    network: USER_MODE_NETWORK,
    hostname: 'runner-disk-test',
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-disks-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds the boot command, each argument ended by a NUL, readable by root only, when the VM has one', async () => {
    const path = join(dir, 'seed-boot-command.tar');
    await createSeedDisk(path, { ...seed, bootCommand: ['sh', '-c', 'echo "$1"', 'a b\nc'] });
    const entry = (await readTar(await readFile(path))).get(EXTRA_SEED_FILES.bootCommand);
    assert.equal(entry?.mode, 0o600);
    assert.equal(entry?.body.toString('utf8'), 'sh\0-c\0echo "$1"\0a b\nc\0');
  });

  it("writes the seed as a plain tar holding exactly the contract's files, with their modes", async () => {
    const path = join(dir, 'seed.tar');
    await createSeedDisk(path, { ...seed, network: { ...USER_MODE_NETWORK, mtu: 1400 } });
    const bytes = await readFile(path);
    assert.equal(bytes.length % 4096, 0, 'whole 4 KiB blocks for virtio-blk');
    const entries = await readTar(bytes);
    for (const entry of entries.values()) assert.equal(entry.type, 'file');
    assert.deepEqual(
      [...entries.keys()],
      [
        SEED_FILES.authorizedKeys,
        SEED_FILES.hostKey,
        SEED_FILES.hostKeyPub,
        SEED_FILES.network,
        SEED_FILES.hostname,
        EXTRA_SEED_FILES.randomSeed,
        EXTRA_SEED_FILES.time,
      ],
    );
    assert.equal(entries.get(EXTRA_SEED_FILES.randomSeed)?.mode, 0o600);
    assert.match(entries.get(EXTRA_SEED_FILES.time)?.body.toString('utf8') ?? '', /^\d{10}\n$/);
    assert.equal(
      entries.get(SEED_FILES.authorizedKeys)?.body.toString('utf8'),
      `${keys.client.publicKey.trim()}\n`,
    );
    assert.equal(entries.get(SEED_FILES.hostKey)?.body.toString('utf8').trim(), keys.host.privateKey.trim());
    assert.equal(
      entries.get(SEED_FILES.hostKeyPub)?.body.toString('utf8'),
      `${keys.host.publicKey.trim()}\n`,
    );
    assert.equal(
      entries.get(SEED_FILES.network)?.body.toString('utf8'),
      'ADDRESS=10.0.2.15/24\nGATEWAY=10.0.2.2\nDNS="10.0.2.3"\nMTU=1400\n',
    );
    assert.equal(entries.get(SEED_FILES.hostname)?.body.toString('utf8'), 'runner-disk-test\n');
    assert.equal(entries.get(SEED_FILES.hostKey)?.mode, 0o600);
    assert.equal(entries.get(SEED_FILES.authorizedKeys)?.mode, 0o600);
    assert.equal(entries.get(SEED_FILES.hostKeyPub)?.mode, 0o644);
  });

  it('keeps the host private key inside the 0600 seed file only, and never overwrites a file', async () => {
    const sub = await mkdtemp(join(dir, 'secret-'));
    const path = join(sub, 'seed.tar');
    const seed = {
      authorizedKeys: keys.client.publicKey,
      hostPrivateKey: keys.host.privateKey,
      hostPublicKey: keys.host.publicKey,
      network: USER_MODE_NETWORK,
      hostname: 'h',
    };
    await createSeedDisk(path, seed);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(sub), ['seed.tar'], 'no temp or side file');
    // The client's private key is not the guest's business at all.
    const text = (await readFile(path)).toString('latin1');
    const clientKeyBody = keys.client.privateKey
      .split('\n')
      .filter((line) => !line.startsWith('-----'))
      .join('\n')
      .trim();
    assert.ok(clientKeyBody.length > 100);
    assert.equal(text.includes(clientKeyBody), false);
    await assert.rejects(createSeedDisk(path, seed), { code: 'EEXIST' });
  });

  it('creates the scratch disk sparse: full size, (almost) no blocks, 0600, never reused', async () => {
    const path = join(dir, 'scratch.img');
    await createScratchDisk(path, 8192);
    const info = await stat(path);
    assert.equal(info.size, 8192 * 1024 * 1024);
    assert.ok(info.blocks * 512 <= 64 * 1024, `allocated ${info.blocks * 512} bytes`);
    assert.equal(info.mode & 0o777, 0o600);
    await assert.rejects(createScratchDisk(path, 1), { code: 'EEXIST' });
  });

  it('renders network.env without MTU when none is set, and DNS as a space-separated list', () => {
    assert.equal(
      networkEnv({ address: '172.16.0.2/30', gateway: '172.16.0.1', dns: ['1.1.1.1', '9.9.9.9'] }),
      'ADDRESS=172.16.0.2/30\nGATEWAY=172.16.0.1\nDNS="1.1.1.1 9.9.9.9"\n',
    );
  });
});
