import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerImageCommand } from '../../src/cli/commands/image.js';
import { hasCode } from '../../src/errors.js';
import { IMAGE_FILES, IMAGE_FORMAT_VERSION, type ImageManifest } from '../../src/image/layout.js';

const MANIFEST: ImageManifest = {
  formatVersion: IMAGE_FORMAT_VERSION,
  version: 'abcdef123456',
  createdAt: '2026-11-28T00:00:00.000Z',
  kernelRelease: '6.1.0-56-cloud-amd64',
  kernelCmdline: 'console=ttyS0 reboot=t',
  kernelCmdlineFirecracker: 'console=ttyS0 reboot=k',
  vmlinuxPvh: true,
  inputs: {},
  files: {
    kernel: { name: IMAGE_FILES.kernel, size: 1, sha256: 'a'.repeat(64) },
    vmlinux: { name: IMAGE_FILES.vmlinux, size: 1, sha256: 'b'.repeat(64) },
    initrd: { name: IMAGE_FILES.initrd, size: 1, sha256: 'c'.repeat(64) },
    rootfs: { name: IMAGE_FILES.rootfs, size: 1, sha256: 'd'.repeat(64) },
  },
  buildSeconds: 1,
};

async function runCli(argv: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerImageCommand(program);
  let output = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    output += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'tart', ...argv]);
  } finally {
    process.stdout.write = write;
  }
  return output;
}

test('tart image show prints the manifest that current points at', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tart-cli-image-test-'));
  try {
    await mkdir(join(root, MANIFEST.version));
    await writeFile(join(root, MANIFEST.version, IMAGE_FILES.manifest), JSON.stringify(MANIFEST));
    await symlink(MANIFEST.version, join(root, 'current'));
    assert.deepEqual(JSON.parse(await runCli(['image', 'show', '--output', root])), MANIFEST);
    assert.deepEqual(
      JSON.parse(await runCli(['image', 'show', '--output', root, '--version', MANIFEST.version])),
      MANIFEST,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('tart image show without a built image fails with IMAGE_NOT_FOUND', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tart-cli-image-test-'));
  try {
    await assert.rejects(runCli(['image', 'show', '--output', root]), (error: unknown) =>
      hasCode(error, 'IMAGE_NOT_FOUND'),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
