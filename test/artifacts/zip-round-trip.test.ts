import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { zipFromTar } from '../../src/artifacts/zip-from-tar.js';
import { openZipAsTar } from '../../src/artifacts/zip-to-tar.js';
import { copyTarIn, copyTarOut } from '../../src/executor/streams.js';
import { createHostEnvironment, type HostEnvironment } from '../support/host-environment.js';
import { listTree, snapshotTree, writeTree } from './fixtures.js';

const LONG_NAME = `deep/${'n'.repeat(120)}/${'f'.repeat(90)}.txt`;

describe('tar → zip → tar round trip', () => {
  let env: HostEnvironment;
  let source: string;
  let zipPath: string;

  before(async () => {
    env = await createHostEnvironment();
    source = join(env.root, 'source');
    zipPath = join(env.root, 'archive.zip');
    await writeTree(source, {
      'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'secret.key': { content: 'k', mode: 0o600 },
      'empty.txt': '',
      'empty-dir': { dir: true, mode: 0o750 },
      'with space/ü-ñ.txt': 'unicode name',
      'data/random.bin': randomBytes(1024 * 1024 + 7),
      'data/link-to-random': { symlink: 'random.bin' },
      dangling: { symlink: 'does/not/exist' },
      'hard-a.txt': 'same inode',
      'hard-b.txt': { hardlinkTo: 'hard-a.txt' },
      [LONG_NAME]: 'long',
    });
    const paths = await listTree(source);
    const tar = copyTarOut(env, { directory: source, paths, dereferenceHardLinks: true });
    await pipeline(zipFromTar(tar), createWriteStream(zipPath));
  });
  after(() => env.close());

  it('writes a zip that unzip accepts, with unix modes and symlinks in the external attributes', () => {
    execFileSync('unzip', ['-tq', zipPath]);
    const listing = execFileSync('zipinfo', [zipPath], { encoding: 'utf8' });
    assert.match(listing, /^-rwxr-xr-x .* bin\/run\.sh$/m);
    assert.match(listing, /^-rw------- .* secret\.key$/m);
    assert.match(listing, /^lrwxrwxrwx .* data\/link-to-random$/m);
    assert.match(listing, /^drwxr-x--- .* empty-dir\/$/m);
  });

  it('restores a byte-identical tree: contents, modes, mtimes, symlinks, long and unicode names', async () => {
    const target = join(env.root, 'target');
    const { tar } = await openZipAsTar({ zipPath, projectDir: target });
    await copyTarIn(env, { directory: target, tar });
    const expected = await snapshotTree(source);
    const actual = await snapshotTree(target);
    assert.deepEqual(actual, expected);
    assert.equal(actual['hard-b.txt']?.sha256, expected['hard-a.txt']?.sha256);
  });

  it('fails the zip stream when the tar stream fails', async () => {
    const tar = copyTarOut(env, { directory: join(env.root, 'no-such-dir'), paths: ['x'] });
    await assert.rejects(
      pipeline(zipFromTar(tar), createWriteStream(join(env.root, 'broken.zip'))),
      /COPY_OUT_FAILED|failed/,
    );
  });
});
