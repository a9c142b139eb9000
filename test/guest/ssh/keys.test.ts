// Per-VM keys must load in OpenSSH (the guest's sshd reads the host key, authorized_keys the
// client's). ssh2 drops the leading zero byte of one public key in 256 and OpenSSH then refuses the
// key ("error in libcrypto"); here every generated key is checked with the real ssh-keygen.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ed25519KeyLength, generateVmKeys } from '../../../src/guest/ssh/keys.js';

test('every generated key pair is well-formed and loads in OpenSSH (600 keys, where ssh2 alone fails about 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tart-keys-'));
  try {
    for (let index = 0; index < 300; index++) {
      const keys = generateVmKeys(`job${index}-0123abcd`);
      for (const [role, pair] of Object.entries(keys)) {
        assert.equal(ed25519KeyLength(pair.publicKey), 32, `${role} key ${index}`);
        const path = join(dir, `${role}-${index}`);
        writeFileSync(path, pair.privateKey, { mode: 0o600 });
        const derived = execFileSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
        assert.equal(derived, pair.publicKey.split(' ').slice(0, 2).join(' '), `${role} key ${index}: OpenSSH derives the same public key`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the key length is read from the public key line', () => {
  const line = (key: Buffer) => {
    const type = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([Buffer.alloc(4), type, Buffer.alloc(4), key]);
    blob.writeUInt32BE(type.length, 0);
    blob.writeUInt32BE(key.length, 4 + type.length);
    return `ssh-ed25519 ${blob.toString('base64')} c`;
  };
  assert.equal(ed25519KeyLength(line(Buffer.alloc(32, 1))), 32);
  assert.equal(ed25519KeyLength(line(Buffer.alloc(31, 1))), 31);
  assert.equal(ed25519KeyLength('ssh-ed25519'), -1);
});
