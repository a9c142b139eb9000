import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { archiveCaches } from '../../src/cache/archive-cache.js';
import { restoreCaches } from '../../src/cache/restore-cache.js';
import { LocalCacheStore } from '../../src/cache/store.js';
import { hasCode } from '../../src/errors.js';
import type { JobCache, JobVariable } from '../../src/model/payload.js';
import { hostProject, jobPayload, snapshotTree, traceCollector } from '../artifacts/fixtures.js';
import type { HostEnvironment } from '../support/host-environment.js';

describe('cache stages (archive_cache, restore_cache)', () => {
  let env: HostEnvironment;
  let projectDir: string;
  let store: LocalCacheStore;

  beforeEach(async () => {
    ({ env, projectDir } = await hostProject({
      'node_modules/left-pad/index.js': 'module.exports = 1',
      'node_modules/.bin/left-pad': { symlink: '../left-pad/index.js' },
      'node_modules/left-pad/cli.js': { content: '#!/usr/bin/env node', mode: 0o755 },
      'src/app.js': 'app',
    }));
    store = new LocalCacheStore({ dir: join(env.root, 'cache') });
  });
  afterEach(() => env.close());

  async function archive(
    cache: JobCache[],
    options: { jobSucceeded?: boolean; variables?: JobVariable[] } = {},
  ): Promise<string> {
    const trace = traceCollector();
    await archiveCaches({
      env,
      job: jobPayload({ cache }),
      projectDir,
      variables: options.variables ?? [],
      store,
      jobSucceeded: options.jobSucceeded ?? true,
      log: trace.log,
      signal: new AbortController().signal,
    });
    return trace.text();
  }

  async function restore(cache: JobCache[], variables: JobVariable[] = []): Promise<string> {
    const trace = traceCollector();
    await restoreCaches({
      env,
      job: jobPayload({ cache }),
      projectDir,
      variables,
      store,
      log: trace.log,
      signal: new AbortController().signal,
    });
    return trace.text();
  }

  async function freshProjectDir(): Promise<void> {
    await rm(projectDir, { recursive: true, force: true });
    await mkdir(projectDir, { recursive: true });
  }

  const NODE_MODULES: JobCache = {
    key: 'deps-main',
    paths: ['node_modules/'],
    policy: 'pull-push',
    when: 'on_success',
  };

  it('archives with pull-push and restores an identical tree into a fresh project dir', async () => {
    const expected = await snapshotTree(join(projectDir, 'node_modules'));
    const archived = await archive([NODE_MODULES]);
    assert.match(archived, /^Creating cache deps-main\.\.\.$/m);
    assert.match(archived, /^node_modules\/: found 6 matching artifact files and directories$/m);
    assert.match(
      archived,
      /^No URL provided, cache will not be uploaded to shared cache server\. Cache will be stored only locally\.$/m,
    );
    assert.match(archived, /^Created cache$/m);
    execFileSync('unzip', ['-tq', join(env.root, 'cache/acme/widget/deps-main/cache.zip')]);

    await freshProjectDir();
    const restored = await restore([NODE_MODULES]);
    assert.match(restored, /^Checking cache for deps-main\.\.\.$/m);
    assert.match(restored, /^Successfully extracted cache$/m);
    assert.deepEqual(await snapshotTree(join(projectDir, 'node_modules')), expected);
  });

  it('prints a warning on a miss and tries fallback_keys, then CACHE_FALLBACK_KEY, in order', async () => {
    await archive([{ ...NODE_MODULES, key: 'global-fallback' }]);
    await freshProjectDir();
    const text = await restore(
      [{ ...NODE_MODULES, key: 'feature-x', fallback_keys: ['$MISSING_BRANCH-cache'] }],
      [{ key: 'CACHE_FALLBACK_KEY', value: 'global-fallback' }],
    );
    const order = [
      'Checking cache for feature-x...',
      'WARNING: Cache file does not exist',
      'Failed to extract cache',
      'Checking cache for -cache...',
      'Failed to extract cache',
      'Checking cache for global-fallback...',
      'Successfully extracted cache',
    ];
    let position = -1;
    for (const line of order) {
      const next = text.indexOf(line, position + 1);
      assert.ok(next > position, `"${line}" after position ${position} in:\n${text}`);
      position = next;
    }
    assert.equal(
      await readFile(join(projectDir, 'node_modules/left-pad/index.js'), 'utf8'),
      'module.exports = 1',
    );
  });

  it('never falls back to a protected CACHE_FALLBACK_KEY', async () => {
    const text = await restore([NODE_MODULES], [{ key: 'CACHE_FALLBACK_KEY', value: 'main-protected' }]);
    assert.match(text, /WARNING: CACHE_FALLBACK_KEY "main-protected" not allowed to end in "-protected"/);
    assert.doesNotMatch(text, /Checking cache for main-protected/);
  });

  it('honours policy pull (no upload) and push (no download)', async () => {
    const pulled = await archive([{ ...NODE_MODULES, policy: 'pull' }]);
    assert.match(pulled, /^Not uploading cache deps-main due to policy$/m);
    assert.equal(await store.stat({ project: 'acme/widget', key: 'deps-main' }), undefined);
    const pushed = await restore([{ ...NODE_MODULES, policy: 'push' }]);
    assert.match(pushed, /^Not downloading cache deps-main due to policy$/m);
  });

  it('fails the stage on an unknown policy', async () => {
    await assert.rejects(restore([{ ...NODE_MODULES, policy: 'maybe' as JobCache['policy'] }]), (error) =>
      hasCode(error, 'CACHE_POLICY_UNKNOWN'),
    );
  });

  it('archives on failure only for when: on_failure or always', async () => {
    await archive(
      [
        { ...NODE_MODULES, key: 'success-only' },
        { ...NODE_MODULES, key: 'on-failure', when: 'on_failure' },
        { ...NODE_MODULES, key: 'always', when: 'always' },
      ],
      {
        jobSucceeded: false,
      },
    );
    assert.equal(await store.stat({ project: 'acme/widget', key: 'success-only' }), undefined);
    assert.ok(await store.stat({ project: 'acme/widget', key: 'on-failure' }));
    assert.ok(await store.stat({ project: 'acme/widget', key: 'always' }));
  });

  it('skips rebuilding when nothing changed since the archive, and rebuilds after a change', async () => {
    await archive([NODE_MODULES]);
    const unchanged = await archive([NODE_MODULES]);
    assert.match(unchanged, /^Archive is up to date!$/m);
    const future = new Date(Date.now() + 60_000);
    await writeFile(join(projectDir, 'node_modules/left-pad/index.js'), 'module.exports = 2');
    await utimes(join(projectDir, 'node_modules/left-pad/index.js'), future, future);
    const changed = await archive([NODE_MODULES]);
    assert.doesNotMatch(changed, /up to date/);
    await freshProjectDir();
    await restore([NODE_MODULES]);
    assert.equal(
      await readFile(join(projectDir, 'node_modules/left-pad/index.js'), 'utf8'),
      'module.exports = 2',
    );
  });

  it('caches untracked files and sanitises keys with a warning', async () => {
    execFileSync('git', ['init', '-q'], { cwd: projectDir });
    execFileSync('git', ['add', 'src/app.js'], { cwd: projectDir });
    const text = await archive([{ key: '../$REF/untracked ', paths: [], untracked: true }], {
      variables: [{ key: 'REF', value: 'main' }],
    });
    assert.match(text, /WARNING: cache key "\.\.\/main\/untracked " sanitized to "main\/untracked"/);
    assert.match(text, /^untracked: found \d+ files$/m);
    const zip = join(env.root, 'cache/acme/widget/main/untracked/cache.zip');
    const names = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
    assert.match(names, /node_modules\/left-pad\/index\.js/);
    assert.doesNotMatch(names, /src\/app\.js/);
  });

  it('warns and carries on when there is nothing to cache', async () => {
    const text = await archive([{ ...NODE_MODULES, paths: ['vendor/'] }]);
    assert.match(text, /^WARNING: No files to cache\.$/m);
    assert.match(text, /^Created cache$/m);
  });

  it('treats an unsafe cache archive as a failed extraction, writing nothing', async () => {
    const { buildZip } = await import('../artifacts/handmade-zip.js');
    const { Readable } = await import('node:stream');
    await store.publish(
      { project: 'acme/widget', key: 'evil' },
      Readable.from([buildZip([{ name: '../../escape.txt', data: 'x' }])]),
    );
    const text = await restore([{ ...NODE_MODULES, key: 'evil' }]);
    assert.match(text, /WARNING: refusing archive entry "\.\.\/\.\.\/escape\.txt"/);
    assert.match(text, /^Failed to extract cache$/m);
    await assert.rejects(readFile(join(env.buildsDir, 'escape.txt')));
  });
});
