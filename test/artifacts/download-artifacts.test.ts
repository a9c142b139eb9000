import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { downloadArtifacts } from '../../src/artifacts/download-artifacts.js';
import { checkEntriesStayInside, safeEntryName } from '../../src/artifacts/zip-to-tar.js';
import { hasCode } from '../../src/errors.js';
import type { JobDependency } from '../../src/model/payload.js';
import { createHostEnvironment, type HostEnvironment } from '../support/host-environment.js';
import { jobPayload, listTree, traceCollector } from './fixtures.js';
import { buildZip, type HandmadeEntry } from './handmade-zip.js';
import { ArtifactTransportDouble } from './transport-double.js';

const SYMLINK = 0o120777;

describe('downloadArtifacts', () => {
  let env: HostEnvironment;
  let projectDir: string;
  let transport: ArtifactTransportDouble;
  const dependency: JobDependency = {
    id: 7,
    name: 'compile',
    token: 't',
    artifacts_file: { filename: 'artifacts.zip', size: 1 },
  };

  beforeEach(async () => {
    env = await createHostEnvironment();
    projectDir = join(env.buildsDir, 'acme', 'widget');
    await mkdir(join(projectDir, 'existing'), { recursive: true });
    transport = new ArtifactTransportDouble();
  });
  afterEach(() => env.close());

  async function download(entries: HandmadeEntry[] | Buffer): Promise<{ text: string; error?: unknown }> {
    transport.archives.set(7, Buffer.isBuffer(entries) ? entries : buildZip(entries));
    const trace = traceCollector();
    const job = jobPayload({ dependencies: [dependency, { id: 8, name: 'lint', token: 't' }] });
    try {
      await downloadArtifacts({
        env,
        job,
        projectDir,
        transport,
        log: trace.log,
        signal: new AbortController().signal,
      });
      return { text: trace.text() };
    } catch (error) {
      return { text: trace.text(), error };
    }
  }

  it('extracts a dependency zip into the project dir and logs like gitlab-runner', async () => {
    const result = await download([
      { name: 'out/', mode: 0o040755 },
      { name: 'out/app.bin', data: 'binary', mode: 0o100755 },
      { name: 'out/current', data: 'app.bin', mode: SYMLINK },
      { name: 'abs-inside', data: join(projectDir, 'out/app.bin'), mode: SYMLINK },
    ]);
    assert.equal(result.error, undefined);
    assert.equal(await readFile(join(projectDir, 'out/app.bin'), 'utf8'), 'binary');
    assert.equal(await readlink(join(projectDir, 'out/current')), 'app.bin');
    assert.match(result.text, /^Downloading artifacts for compile \(7\)\.\.\.$/m);
    assert.match(
      result.text,
      /^Downloading artifacts from coordinator\.\.\. ok +id=7 responseStatus=200 OK$/m,
    );
    assert.doesNotMatch(result.text, /lint/, 'dependencies without artifacts_file are skipped');
  });

  const UNSAFE: Array<[string, HandmadeEntry[]]> = [
    [
      'a ../ entry',
      [
        { name: 'ok.txt', data: 'fine' },
        { name: '../evil.txt', data: 'x' },
      ],
    ],
    ['a nested ../ entry', [{ name: 'a/../../evil.txt', data: 'x' }]],
    ['an absolute path', [{ name: '/tmp/tart-evil.txt', data: 'x' }]],
    ['a symlink to a parent dir', [{ name: 'link', data: '../../..', mode: SYMLINK }]],
    ['a symlink to an absolute outside path', [{ name: 'etc', data: '/etc', mode: SYMLINK }]],
    [
      'an entry under a symlink',
      [
        { name: 'sub/', mode: 0o040755 },
        { name: 'link', data: 'sub', mode: SYMLINK },
        { name: 'link/file.txt', data: 'x' },
      ],
    ],
    [
      'a symlink climbing out through another symlink',
      [
        { name: 'here', data: '.', mode: SYMLINK },
        { name: 'up', data: 'here/..', mode: SYMLINK },
      ],
    ],
  ];

  for (const [what, entries] of UNSAFE) {
    it(`refuses an archive with ${what} and writes nothing anywhere`, async () => {
      const before = await listTree(env.root);
      const result = await download(entries);
      assert.ok(
        hasCode(result.error, 'ARTIFACT_UNSAFE_ENTRY'),
        `expected ARTIFACT_UNSAFE_ENTRY, got ${String(result.error)}`,
      );
      assert.deepEqual(await listTree(env.root), before);
      assert.match(result.text, /ERROR: refusing archive entry/);
    });
  }

  it('reports a corrupt archive as ARTIFACT_DOWNLOAD_FAILED', async () => {
    const result = await download(Buffer.from('PK\x03\x04 this is not really a zip'));
    assert.ok(hasCode(result.error, 'ARTIFACT_DOWNLOAD_FAILED'), String(result.error));
  });

  const CORRUPT: Array<[string, HandmadeEntry[]]> = [
    [
      'inflates past its declared size',
      [{ name: 'bomb.bin', data: 'x'.repeat(1 << 20), deflate: true, declaredSize: 10 }],
    ],
    ['fails its CRC-32', [{ name: 'bad.txt', data: 'payload', declaredCrc: 0x12345678 }]],
    [
      'fails its CRC-32 after deflate',
      [{ name: 'bad.bin', data: 'y'.repeat(300_000), deflate: true, declaredCrc: 1 }],
    ],
  ];

  for (const [what, entries] of CORRUPT) {
    it(`fails the download, and nothing else, when an entry ${what}`, async () => {
      const result = await download([{ name: 'first.txt', data: 'fine' }, ...entries]);
      assert.ok(hasCode(result.error, 'ARTIFACT_DOWNLOAD_FAILED'), String(result.error));
      assert.match(String((result.error as Error).message), /corrupt zip entry/);
    });
  }

  it('refuses at once an archive whose declared sizes cannot fit in the environment', async () => {
    const bomb = Array.from({ length: 400 }, (_, index) => ({
      name: `bomb-${index}.bin`,
      data: 'z',
      deflate: true,
      declaredSize: 0xfffffff0,
    }));
    const started = Date.now();
    const result = await download(bomb);
    assert.ok(hasCode(result.error, 'ARTIFACT_DOWNLOAD_FAILED'), String(result.error));
    assert.match(
      String((result.error as Error).message),
      /would extract 1717986912000 bytes in 400 entries, but only \d+ bytes are free/,
    );
    assert.ok(Date.now() - started < 5000, 'fails fast');
    assert.equal(existsSync(join(projectDir, 'bomb-0.bin')), false, 'nothing was extracted');
  });

  it('reports a transport failure as ARTIFACT_DOWNLOAD_FAILED', async () => {
    const trace = traceCollector();
    const job = jobPayload({ dependencies: [{ ...dependency, id: 99 }] });
    await assert.rejects(
      downloadArtifacts({
        env,
        job,
        projectDir,
        transport,
        log: trace.log,
        signal: new AbortController().signal,
      }),
      (error) => hasCode(error, 'ARTIFACT_DOWNLOAD_FAILED'),
    );
  });
});

describe('archive entry checks', () => {
  it('normalises harmless names and refuses escaping ones', () => {
    assert.equal(safeEntryName('./a//b/./c/'), 'a/b/c');
    assert.equal(safeEntryName('a\\..\\b'), 'a\\..\\b', 'a backslash is a name character on Linux');
    assert.throws(
      () => safeEntryName('a/../../b'),
      (error) => hasCode(error, 'ARTIFACT_UNSAFE_ENTRY'),
    );
    assert.throws(
      () => safeEntryName('C:/windows'),
      (error) => hasCode(error, 'ARTIFACT_UNSAFE_ENTRY'),
    );
  });

  it('accepts symlinks that stay inside the project dir', () => {
    assert.doesNotThrow(() =>
      checkEntriesStayInside(
        [
          { name: 'a/b/link', type: 'symlink', linkTarget: '../../c' },
          { name: 'abs', type: 'symlink', linkTarget: '/builds/p/x' },
        ],
        '/builds/p',
      ),
    );
  });
});
