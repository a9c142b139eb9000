// Per-job disks in O(1) of the image size: a sparse scratch file and a small seed tar. The
// image's rootfs is shared read-only and never copied.
import { open, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { pack } from 'tar-stream';
import type { GuestNetworkConfig } from './guest-contract.js';
import { EXTRA_SEED_FILES, SEED_FILES } from './guest-contract.js';

/** A sparse raw file of `sizeMb`: no block is allocated until the guest writes. */
export async function createScratchDisk(path: string, sizeMb: number): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.truncate(sizeMb * 1024 * 1024);
  } finally {
    await file.close();
  }
}

export interface SeedContents {
  authorizedKeys: string;
  hostPrivateKey: string;
  hostPublicKey: string;
  network: GuestNetworkConfig;
  hostname: string;
  /** The guest contract's boot_command (EXTRA_SEED_FILES.bootCommand), when the VM has one. */
  bootCommand?: readonly string[];
}

/** The seed disk: a plain tar (0600) the guest's init reads from /dev/vdc. */
export async function createSeedDisk(path: string, seed: SeedContents): Promise<void> {
  const entries: Array<[string, string | Buffer, number]> = [
    [SEED_FILES.authorizedKeys, `${seed.authorizedKeys.trim()}\n`, 0o600],
    [SEED_FILES.hostKey, ensureNewline(seed.hostPrivateKey), 0o600],
    [SEED_FILES.hostKeyPub, `${seed.hostPublicKey.trim()}\n`, 0o644],
    [SEED_FILES.network, networkEnv(seed.network), 0o644],
    [SEED_FILES.hostname, `${seed.hostname}\n`, 0o644],
    // Entropy and the clock: sshd must not wait for randomness, and TLS needs a sane date.
    [EXTRA_SEED_FILES.randomSeed, randomBytes(64), 0o600],
    [EXTRA_SEED_FILES.time, `${Math.floor(Date.now() / 1000)}\n`, 0o644],
    ...(seed.bootCommand ? [[EXTRA_SEED_FILES.bootCommand, seed.bootCommand.map((arg) => `${arg}\0`).join(''), 0o600] as [string, string, number]] : []),
  ];
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const [name, text, mode] of entries) archive.entry({ name, mode, mtime: new Date(0) }, text);
  archive.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  // Virtio-blk disks are whole sectors; tar-stream already pads to 512-byte records.
  await writeFile(path, padTo(tar, 4096), { mode: 0o600, flag: 'wx' });
}

/** network.env as the guest's init sources it. */
export function networkEnv(network: GuestNetworkConfig): string {
  const lines = [
    `ADDRESS=${network.address}`,
    `GATEWAY=${network.gateway}`,
    `DNS="${network.dns.join(' ')}"`,
    ...(network.mtu ? [`MTU=${network.mtu}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function padTo(buffer: Buffer, block: number): Buffer {
  const remainder = buffer.length % block;
  return remainder === 0 ? buffer : Buffer.concat([buffer, Buffer.alloc(block - remainder)]);
}
