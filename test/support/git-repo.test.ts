// Test repositories are real bare git repos with reproducible history.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRepo, createRepoWithSubmodule, runGit } from './git-repo.js';

describe('createRepo', () => {
  it('builds the same shas for the same content, with tags and extra commits', async () => {
    const options = {
      files: { 'a.txt': 'a\n' },
      commits: [{ files: { 'b/c.txt': 'c\n' }, remove: ['a.txt'] }],
      tags: ['v1'],
    };
    const [one, two] = await Promise.all([createRepo(options), createRepo(options)]);
    try {
      assert.deepEqual(one.shas, two.shas);
      assert.equal(one.shas.length, 2);
      assert.deepEqual(one.tags, { v1: one.head() });
      assert.equal(await runGit(one.bareDir, ['ls-tree', '-r', '--name-only', 'main']), 'b/c.txt');
      assert.equal(await runGit(one.bareDir, ['rev-parse', 'refs/tags/v1']), one.head());
    } finally {
      await Promise.all([one.cleanup(), two.cleanup()]);
    }
  });

  it('commits on other branches without moving the default branch, and keeps executable bits', async () => {
    const repo = await createRepo({ files: { 'run.sh': { content: '#!/bin/sh\n', executable: true } } });
    try {
      const feature = await repo.addCommit({ branch: 'feature', files: { 'f.txt': 'f\n' } });
      assert.equal(repo.shas.length, 1);
      assert.equal(await runGit(repo.bareDir, ['rev-parse', 'refs/heads/feature']), feature);
      assert.equal(await runGit(repo.bareDir, ['rev-parse', 'refs/heads/main']), repo.head());
      const next = await repo.addCommit({ files: { 'g.txt': 'g\n' } });
      assert.deepEqual(
        [repo.head(), await runGit(repo.bareDir, ['rev-parse', `${next}^`])],
        [next, repo.shas[0]],
      );
      assert.match(await runGit(repo.bareDir, ['ls-tree', 'main', 'run.sh']), /^100755 /);
    } finally {
      await repo.cleanup();
    }
  });

  it('records a submodule as a gitlink with a relative .gitmodules URL, and cleans up its temp dir', async () => {
    const lib = await createRepo({ name: 'lib' });
    const parent = await createRepoWithSubmodule({ submodule: lib, path: 'vendor/lib' });
    try {
      assert.equal(
        await runGit(parent.bareDir, ['ls-tree', 'main', 'vendor/lib']),
        `160000 commit ${lib.head()}\tvendor/lib`,
      );
      assert.equal(
        await runGit(parent.bareDir, ['config', '--blob', 'main:.gitmodules', 'submodule.vendor/lib.url']),
        '../lib.git',
      );
    } finally {
      await Promise.all([lib.cleanup(), parent.cleanup()]);
    }
    await assert.rejects(access(join(parent.bareDir, 'HEAD')));
  });
});
