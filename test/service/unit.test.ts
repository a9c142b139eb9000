// The unit `tart install` writes: the shipped template with this installation's paths, checked by
// systemd's own verifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderServiceUnit } from '../../src/service/unit.js';

const PACKAGE_ROOT = join(import.meta.dirname, '..', '..');

function settings(text: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) result.set(match[1], [...(result.get(match[1]) ?? []), match[2] ?? '']);
  }
  return result;
}

async function verify(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-unit-'));
  try {
    await writeFile(join(dir, 'tart.service'), text);
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', [
      'verify',
      join(dir, 'tart.service'),
    ]);
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a root service runs this tart with the chosen config and working directory', async () => {
  const text = await renderServiceUnit({
    tartPath: process.execPath,
    configPath: '/srv/ci/tart config.toml',
    workingDirectory: '/srv/ci',
    packageRoot: PACKAGE_ROOT,
  });
  const unit = settings(text);
  assert.deepEqual(unit.get('ExecStart'), [`${process.execPath} run --config "/srv/ci/tart config.toml"`]);
  assert.deepEqual(unit.get('WorkingDirectory'), ['/srv/ci']);
  assert.equal(unit.get('User'), undefined);
  assert.deepEqual(unit.get('KillSignal'), ['SIGQUIT']);
  assert.deepEqual(unit.get('Documentation'), [`file://${join(PACKAGE_ROOT, 'docs', 'configuration.md')}`]);
  assert.match(text, /^# Written by "tart install"/m);
  assert.equal(await verify(text), '');
});

test('--user runs the daemon as that user, with KVM access, TAP capabilities and the network set up as root', async () => {
  const text = await renderServiceUnit({
    tartPath: process.execPath,
    configPath: '/etc/tart/config.toml',
    user: 'daemon',
    packageRoot: PACKAGE_ROOT,
  });
  const unit = settings(text);
  assert.deepEqual(unit.get('User'), ['daemon']);
  assert.deepEqual(unit.get('SupplementaryGroups'), ['kvm']);
  assert.deepEqual(unit.get('AmbientCapabilities'), ['CAP_NET_ADMIN CAP_NET_RAW']);
  assert.deepEqual(unit.get('ExecStartPre'), [
    `+${process.execPath} network setup --config /etc/tart/config.toml`,
  ]);
  assert.deepEqual(unit.get('WorkingDirectory'), ['/var/lib/tart']);
  assert.equal(await verify(text), '');
});
