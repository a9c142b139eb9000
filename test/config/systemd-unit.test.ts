import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/load.js';

const UNIT = join(import.meta.dirname, '..', '..', 'packaging', 'tart.service');

// `Key=value` lines of the unit, repeated keys collected in order.
async function unitSettings(): Promise<Map<string, string[]>> {
  const settings = new Map<string, string[]>();
  for (const line of (await readFile(UNIT, 'utf8')).split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) settings.set(match[1], [...(settings.get(match[1]) ?? []), match[2] ?? '']);
  }
  return settings;
}

test('the unit stops gracefully with SIGQUIT to the runner only, within the default shutdown_timeout', async () => {
  const settings = await unitSettings();
  assert.deepEqual(settings.get('ExecStart'), ['/usr/local/bin/tart run --config /etc/tart/config.toml']);
  assert.deepEqual(settings.get('KillSignal'), ['SIGQUIT']);
  assert.deepEqual(settings.get('KillMode'), ['mixed']);
  assert.deepEqual(settings.get('Restart'), ['always']);
  const { shutdownTimeout } = parseConfig('', 'x', { imageDir: '/i', hostname: 'h' });
  assert.deepEqual(settings.get('TimeoutStopSec'), [String(shutdownTimeout)]);
});

test('the unit is hardened but keeps /dev/kvm, /dev/net/tun and network administration', async () => {
  const settings = await unitSettings();
  assert.deepEqual(settings.get('DevicePolicy'), ['closed']);
  const devices = settings.get('DeviceAllow') ?? [];
  assert.ok(devices.includes('/dev/kvm rw'));
  assert.ok(devices.includes('/dev/net/tun rw'));
  assert.match(settings.get('CapabilityBoundingSet')?.[0] ?? '', /\bCAP_NET_ADMIN\b/);
  assert.match(settings.get('RestrictAddressFamilies')?.[0] ?? '', /\bAF_NETLINK\b/);
  assert.deepEqual(settings.get('ProtectSystem'), ['strict']);
  assert.deepEqual(settings.get('NoNewPrivileges'), ['yes']);
  assert.equal(settings.get('PrivateDevices'), undefined, 'PrivateDevices would hide /dev/kvm');
});

test('systemd-analyze accepts the unit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-unit-'));
  try {
    // The real ExecStart binary is not installed here; everything else is checked as shipped.
    const text = (await readFile(UNIT, 'utf8')).replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`);
    await writeFile(join(dir, 'tart.service'), text);
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', [
      'verify',
      join(dir, 'tart.service'),
    ]);
    assert.equal(stdout + stderr, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
