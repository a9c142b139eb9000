import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGitRunner } from '../../src/exec/git.js';
import { startGitServer, type GitServer } from '../../src/exec/git-server.js';
import { readRepository } from '../../src/exec/repository.js';
import { prepareSourceRepository, type SourceRepository } from '../../src/exec/source-repository.js';
import { createRepository, git, gitAsync } from './git-helpers.js';

describe('serving the local repository to jobs', () => {
  let repoRoot: string;
  let scratch: string;
  let source: SourceRepository;
  let server: GitServer;

  before(async () => {
    repoRoot = createRepository({ 'app.txt': 'committed\n' });
    scratch = mkdtempSync(join(tmpdir(), 'tart-exec-clone-'));
    writeFileSync(join(repoRoot, 'app.txt'), 'edited, not committed\n');
    writeFileSync(join(repoRoot, 'new.txt'), 'untracked\n');
    const runner = createGitRunner();
    const state = await readRepository(runner, repoRoot);
    assert.equal(state.dirty, true);
    source = await prepareSourceRepository({ git: runner, repo: state, pipelineId: 77, dirty: true });
    server = await startGitServer({
      projectRoot: source.root,
      username: 'gitlab-ci-token',
      password: 'glcbt-secret-token',
    });
  });

  after(async () => {
    await server.close();
    await source.remove();
    rmSync(repoRoot, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('fetches the pipeline ref shallowly over HTTP, the way get_sources does', async () => {
    const clone = join(scratch, 'fetch');
    execFileSync('git', ['init', '-q', clone]);
    git(clone, 'remote', 'add', 'origin', server.repoUrl('127.0.0.1', source.name));
    await gitAsync(
      clone,
      'fetch',
      '-q',
      'origin',
      '+refs/pipelines/77:refs/pipelines/77',
      '+refs/heads/main:refs/remotes/origin/main',
      '--depth',
      '20',
    );
    git(clone, 'checkout', '-q', '-f', source.sha);
    assert.equal(readFileSync(join(clone, 'app.txt'), 'utf8'), 'edited, not committed\n');
    assert.equal(readFileSync(join(clone, 'new.txt'), 'utf8'), 'untracked\n');
  });

  it('snapshots uncommitted changes without touching the user branch, index or refs', () => {
    assert.equal(git(repoRoot, 'status', '--porcelain'), ' M app.txt\n?? new.txt'.trim());
    assert.notEqual(git(repoRoot, 'rev-parse', 'HEAD'), source.sha);
    assert.throws(
      () => git(repoRoot, 'cat-file', '-e', source.sha),
      'the snapshot commit lives only in the temporary repository',
    );
    assert.equal(git(repoRoot, 'for-each-ref', '--format=%(refname)'), 'refs/heads/main');
  });

  it('refuses requests without the job token', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port: server.port, path: `/${source.name}/info/refs?service=git-upload-pack` },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(status, 401);
  });
});

describe('serving a shallow clone', () => {
  it('lets jobs fetch from a repository that is itself shallow', async () => {
    const upstream = createRepository({ 'a.txt': 'a\n' });
    const scratch = mkdtempSync(join(tmpdir(), 'tart-exec-shallow-'));
    const shallow = join(scratch, 'shallow');
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${upstream}`, shallow]);
    const runner = createGitRunner();
    const source = await prepareSourceRepository({
      git: runner,
      repo: await readRepository(runner, shallow),
      pipelineId: 5,
      dirty: false,
    });
    const server = await startGitServer({
      projectRoot: source.root,
      username: 'gitlab-ci-token',
      password: 'glcbt-other-token',
    });
    try {
      const clone = join(scratch, 'clone');
      execFileSync('git', ['init', '-q', clone]);
      await gitAsync(
        clone,
        'fetch',
        '-q',
        server.repoUrl('127.0.0.1', source.name),
        '+refs/pipelines/5:refs/pipelines/5',
        '--depth',
        '20',
      );
      await gitAsync(clone, 'checkout', '-q', '-f', source.sha);
      assert.equal(readFileSync(join(clone, 'a.txt'), 'utf8'), 'a\n');
    } finally {
      await server.close();
      await source.remove();
      rmSync(upstream, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
