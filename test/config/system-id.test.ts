import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateSystemId, systemIdFromMachineId } from '../../src/config/system-id.js';
import { withTempDir } from '../support/temp-dir.js';

test('with a machine id the system id is s_ + 12 hex of HMAC-SHA256(machine id, "gitlab-runner"), persisted 0600 without newline', async () => {
  await withTempDir(async (dir) => {
    const machineIdFile = join(dir, 'machine-id');
    await writeFile(machineIdFile, '0123456789abcdef0123456789abcdef\n');
    const configPath = join(dir, 'conf', 'config.toml');
    const id = await loadOrCreateSystemId(configPath, {
      machineIdPaths: [join(dir, 'absent'), machineIdFile],
    });
    const expected =
      's_' +
      createHmac('sha256', '0123456789abcdef0123456789abcdef')
        .update('gitlab-runner')
        .digest('hex')
        .slice(0, 12);
    assert.equal(id, expected);
    assert.equal(systemIdFromMachineId('0123456789abcdef0123456789abcdef'), expected);
    const file = join(dir, 'conf', '.runner_system_id');
    assert.equal(await readFile(file, 'utf8'), expected);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'conf'))).mode & 0o777, 0o700);
  });
});

test('without a machine id the system id is r_ + 12 alphanumerics, and it is reused on the next call', async () => {
  await withTempDir(async (dir) => {
    const configPath = join(dir, 'config.toml');
    const first = await loadOrCreateSystemId(configPath, { machineIdPaths: [] });
    assert.match(first, /^r_[0-9a-zA-Z]{12}$/);
    assert.equal(await loadOrCreateSystemId(configPath, { machineIdPaths: [] }), first);
  });
});

test('a stored id is read after trimming whitespace; an invalid one is replaced', async () => {
  await withTempDir(async (dir) => {
    const configPath = join(dir, 'config.toml');
    const file = join(dir, '.runner_system_id');
    await writeFile(file, '  s_abcdefABCDEF\n');
    assert.equal(await loadOrCreateSystemId(configPath, { machineIdPaths: [] }), 's_abcdefABCDEF');
    await writeFile(file, 'x_bad');
    const replaced = await loadOrCreateSystemId(configPath, { machineIdPaths: [] });
    assert.match(replaced, /^r_[0-9a-zA-Z]{12}$/);
    assert.equal(await readFile(file, 'utf8'), replaced);
  });
});

test('failing to save the id only warns; the id is still returned', async () => {
  await withTempDir(async (dir) => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, '');
    const warnings: string[] = [];
    const id = await loadOrCreateSystemId(join(blocker, 'config.toml'), {
      machineIdPaths: [],
      onWarning: (message) => warnings.push(message),
    });
    assert.match(id, /^r_/);
    assert.equal(warnings.length, 1);
  });
});
