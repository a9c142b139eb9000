// `[runners.vm] vm_user`: numbers need no account, names are looked up, root is refused.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { hasCode } from '../../../src/errors.js';
import { resolveVmUser } from '../../../src/executor/vm/vm-user.js';

test('a uid[:gid] pair needs no account; a bare uid is its own gid', async () => {
  assert.deepEqual(await resolveVmUser('64000:64001'), { uid: 64000, gid: 64001 });
  assert.deepEqual(await resolveVmUser('64000'), { uid: 64000, gid: 64000 });
});

test("a user name gives its uid and primary group; a group name after ':' replaces the group", async () => {
  assert.deepEqual(await resolveVmUser('nobody'), { uid: 65534, gid: 65534 });
  assert.deepEqual(await resolveVmUser('nobody:nogroup'), { uid: 65534, gid: 65534 });
  assert.deepEqual(await resolveVmUser('nobody:7'), { uid: 65534, gid: 7 });
});

test('root is refused, and a user that does not exist says how to create it', async () => {
  for (const spec of ['root', '0:5', '5:0'])
    await assert.rejects(resolveVmUser(spec), (error: unknown) => hasCode(error, 'VM_USER_INVALID'), spec);
  await assert.rejects(
    resolveVmUser('tart-no-such-user'),
    (error: unknown) => hasCode(error, 'VM_USER_MISSING') && /adduser --system --group tart-vm/.test(String(error)),
  );
});

test('root creates the default account on first use (a no-login system user), and finds it the next time', { skip: process.getuid?.() !== 0 }, async () => {
  const name = `tart-vmtest-${process.pid}`;
  try {
    const created = await resolveVmUser(name, { defaultUser: name });
    assert.ok(created.uid > 0 && created.uid < 1000, `a system uid: ${created.uid}`);
    const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    assert.equal(entry[6], '/usr/sbin/nologin');
    assert.deepEqual(await resolveVmUser(name, { defaultUser: name }), created);
    await assert.rejects(resolveVmUser(`${name}x`), (error: unknown) => hasCode(error, 'VM_USER_MISSING'), 'only the default is created');
  } finally {
    spawnSync('userdel', [name]);
    spawnSync('groupdel', [name]);
  }
});
