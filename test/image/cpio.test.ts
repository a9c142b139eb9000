import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withParentDirectories, writeCpio } from '../../src/image/cpio.js';
import { withTempDir } from '../support/temp-dir.js';

test('an archive written by writeCpio is extracted by GNU cpio with contents, modes and links intact', async () => {
  await withTempDir(async (dir) => {
    const archive = writeCpio(
      withParentDirectories([
        { kind: 'file', path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
        { kind: 'symlink', path: 'bin/sh', target: 'tool' },
        { kind: 'file', path: 'lib/modules/odd-size.ko', data: Buffer.alloc(4097, 7) },
        { kind: 'file', path: 'empty', data: Buffer.alloc(0), mode: 0o600 },
      ]),
    );
    await writeFile(join(dir, 'a.cpio'), archive);
    const out = join(dir, 'out');
    const result = spawnSync('sh', ['-c', `mkdir "${out}" && cd "${out}" && cpio -id --quiet < ../a.cpio`], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(await readFile(join(out, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal((await stat(join(out, 'bin/tool'))).mode & 0o777, 0o755);
    assert.equal(await readlink(join(out, 'bin/sh')), 'tool');
    assert.deepEqual(await readFile(join(out, 'lib/modules/odd-size.ko')), Buffer.alloc(4097, 7));
    assert.equal((await stat(join(out, 'empty'))).size, 0);
    assert.equal((await stat(join(out, 'empty'))).mode & 0o777, 0o600);
    assert.ok((await stat(join(out, 'lib/modules'))).isDirectory());
  });
});

test('device nodes are listed by cpio as character devices with their numbers', async () => {
  await withTempDir(async (dir) => {
    const archive = writeCpio(
      withParentDirectories([{ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 }]),
    );
    await writeFile(join(dir, 'a.cpio'), archive);
    const result = spawnSync('sh', ['-c', `cpio -itv --quiet < "${join(dir, 'a.cpio')}"`], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const line = result.stdout.split('\n').find((entry) => entry.endsWith('dev/console')) ?? '';
    assert.match(line, /^crw-------/);
    assert.match(line, /\b5,\s+1\b/);
  });
});

test('every record and the archive end on a 4-byte boundary with the newc trailer', () => {
  const archive = writeCpio([{ kind: 'file', path: 'a', data: Buffer.from('xyz') }]);
  assert.equal(archive.length % 4, 0);
  assert.equal(archive.subarray(0, 6).toString('ascii'), '070701');
  assert.ok(archive.includes(Buffer.from('TRAILER!!!\0')));
});

test('the same entries always give the same bytes', () => {
  const entries = [{ kind: 'file' as const, path: 'x/y', data: Buffer.from('1') }];
  assert.deepEqual(writeCpio(withParentDirectories(entries)), writeCpio(withParentDirectories(entries)));
});

test('paths that escape the archive root are refused', () => {
  assert.throws(
    () => writeCpio([{ kind: 'file', path: '../etc/passwd', data: Buffer.alloc(0) }]),
    RangeError,
  );
  assert.throws(() => writeCpio([{ kind: 'directory', path: '/' }]), RangeError);
});

test('withParentDirectories adds each parent once, before its children', () => {
  const entries = withParentDirectories([
    { kind: 'file', path: '/a/b/c', data: Buffer.alloc(0) },
    { kind: 'file', path: 'a/b/d', data: Buffer.alloc(0) },
  ]);
  assert.deepEqual(
    entries.map((entry) => `${entry.kind}:${entry.path}`),
    ['directory:a', 'directory:a/b', 'file:a/b/c', 'file:a/b/d'],
  );
});
