// Shared by the real-VM tests: the guest image (or a clear failure), a per-test-process runtime
// root under TEST_VM_ROOT, and listings of the QEMU processes and files the tests created.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageManifest, type ImageManifest } from '../../../../src/image/layout.js';

/** Every real-VM test puts its runtime dirs (disks, sockets, console logs) below here. */
export const TEST_VM_ROOT = '/tmp/tart-vm-tests';

/** The image CI builds before the tests (`tart image build`); TART_TEST_IMAGE_DIR overrides. */
export const IMAGE_DIR = process.env.TART_TEST_IMAGE_DIR ?? '/var/lib/tart/images/current';

/** The image's manifest; fails with a message saying how to build the image when it is missing. */
export async function requireImage(): Promise<ImageManifest> {
  try {
    return await readImageManifest(IMAGE_DIR);
  } catch (error) {
    assert.fail(
      `the real-VM tests need the guest image in ${IMAGE_DIR} (run "tart image build" as root first, ` +
        `or set TART_TEST_IMAGE_DIR): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * A runtime root owned by this test process: `<TEST_VM_ROOT>/<label>-<pid>`. The final
 * leftovers test waits while its pid lives, then expects it gone (removeTestRuntimeRoot).
 */
export async function createTestRuntimeRoot(label: string): Promise<string> {
  const root = join(TEST_VM_ROOT, `${label}-${process.pid}`);
  await mkdir(root, { recursive: true, mode: 0o700 });
  return root;
}

/** Removes the root; it must already be empty (every VM closed), else the test fails. */
export async function removeTestRuntimeRoot(root: string): Promise<void> {
  const left = await readdir(root).catch(() => []);
  await rm(root, { recursive: true, force: true });
  assert.deepEqual(left, [], `runtime dirs left in ${root}`);
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Live qemu-system processes whose command line mentions `needle` (e.g. a runtime root). */
export function qemuProcessesMentioning(needle: string): Promise<ProcessInfo[]> {
  const found = processCommandLines()
    .filter(({ argv }) => (argv[0] ?? '').includes('qemu-system') && argv.some((arg) => arg.includes(needle)))
    .map(({ pid, argv }) => ({ pid, argv }));
  return Promise.resolve(found);
}

/**
 * Every process's argv, read synchronously: a few tiny procfs reads. (A promise-based readFile of
 * /proc/<pid>/cmdline was seen never to settle under Node 20, hanging the leftovers test.)
 */
export function processCommandLines(): Array<ProcessInfo & { raw: string }> {
  const lines: Array<ProcessInfo & { raw: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let raw: string;
    try {
      raw = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue; // The process ended meanwhile.
    }
    if (raw !== '')
      lines.push({ pid: Number(name), argv: raw.split('\0').filter((part) => part !== ''), raw });
  }
  return lines;
}

/** Every file below `dir` (relative paths), for "nothing left" assertions. */
export async function listFilesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
