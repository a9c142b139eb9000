// Repository facts and cache keys from a real git repository.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveCaches } from '../../src/exec/cache-keys.js';
import { createGitRunner } from '../../src/exec/git.js';
import { changedFiles, projectPathFromRemote, readRepository } from '../../src/exec/repository.js';
import { createRepository, git } from './git-helpers.js';

describe('reading the local repository', () => {
  const root = createRepository({ 'docs/guide.md': '# guide\n', 'package-lock.json': '{}\n' });
  const runner = createGitRunner();
  after(() => rmSync(root, { recursive: true, force: true }));

  it('derives the ref, commits, message and author GitLab would know', async () => {
    git(root, 'remote', 'add', 'origin', 'git@gitlab.example.com:acme/tools/widget.git');
    const repo = await readRepository(runner, root);
    assert.equal(repo.ref, 'main');
    assert.equal(repo.refType, 'branch');
    assert.equal(repo.sha, git(root, 'rev-parse', 'HEAD'));
    assert.equal(repo.beforeSha, git(root, 'rev-parse', 'HEAD~1'));
    assert.equal(repo.commit.title, 'Add pipeline');
    assert.equal(repo.commit.message, 'Add pipeline\n\nWith a description line.\n');
    assert.equal(repo.commit.description, 'With a description line.\n');
    assert.equal(repo.commit.author, 'Jane Doe <jane@example.com>');
    assert.equal(repo.projectPath, 'acme/tools/widget');
    assert.equal(repo.dirty, false);
  });

  it('lists the files the commit changed, plus uncommitted ones when asked', async () => {
    const repo = await readRepository(runner, root);
    assert.deepEqual(await changedFiles(runner, repo, { includeUncommitted: false }), [
      'docs/guide.md',
      'package-lock.json',
    ]);
    writeFileSync(join(root, 'new.txt'), 'x');
    assert.deepEqual(await changedFiles(runner, repo, { includeUncommitted: true }), [
      'docs/guide.md',
      'new.txt',
      'package-lock.json',
    ]);
    rmSync(join(root, 'new.txt'));
  });

  it('detects a detached HEAD on a tag as a tag pipeline', async () => {
    git(root, 'tag', 'v1.0.0');
    git(root, 'checkout', '-q', '--detach', 'v1.0.0');
    const repo = await readRepository(runner, root);
    assert.equal(repo.ref, 'v1.0.0');
    assert.equal(repo.refType, 'tag');
    git(root, 'checkout', '-q', 'main');
  });

  it('computes cache:key:files from the last commit touching the files, with the prefix', async () => {
    const repo = await readRepository(runner, root);
    const [files, plain] = await resolveCaches(
      [
        {
          key: { files: ['package-lock.json', 'missing.txt'], prefix: 'npm' },
          paths: ['node_modules/'],
          policy: 'pull-push',
          when: 'on_success',
          fallbackKeys: ['main'],
        },
        { key: '$CI_COMMIT_REF_SLUG', paths: ['.cache/'], policy: 'pull', when: 'always', fallbackKeys: [] },
      ],
      { git: runner, root, sha: repo.sha },
    );
    const digest = createHash('sha1').update(repo.sha).digest('hex');
    assert.equal(files?.key, `npm-${digest}-non_protected`);
    assert.deepEqual(files?.fallback_keys, ['main-non_protected']);
    assert.equal(plain?.key, '$CI_COMMIT_REF_SLUG-non_protected');
  });

  it('reads project paths from every remote URL form', () => {
    assert.equal(projectPathFromRemote('https://gitlab.com/group/sub/project.git'), 'group/sub/project');
    assert.equal(projectPathFromRemote('ssh://git@gitlab.com:2222/group/project'), 'group/project');
    assert.equal(projectPathFromRemote('git@github.com:owner/repo.git'), 'owner/repo');
    assert.equal(projectPathFromRemote(undefined), undefined);
  });
});
