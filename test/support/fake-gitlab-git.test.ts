// Git over smart HTTP through the fake: real `git http-backend`, job-token basic auth.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { callApi, runningJob } from './fake-gitlab/client.js';
import { startFakeGitLab, type FakeGitLab, type WireJobPayload } from './fake-gitlab/index.js';
import { createRepo, createRepoWithSubmodule, runGit, type TestRepo } from './git-repo.js';

const RUNNER = 'glrt-git';
let fake: FakeGitLab;
let widget: TestRepo;
let lib: TestRepo;
let superproject: TestRepo;
let workRoot: string;

before(async () => {
  widget = await createRepo({
    name: 'widget',
    files: { 'app.txt': 'v1\n', 'run.sh': { content: '#!/bin/sh\necho hi\n', executable: true } },
    tags: ['v1.0.0'],
  });
  lib = await createRepo({ name: 'lib', files: { 'lib.txt': 'library\n' } });
  superproject = await createRepoWithSubmodule({ submodule: lib, path: 'vendor/lib' });
});
after(async () => {
  await Promise.all([widget.cleanup(), lib.cleanup(), superproject.cleanup()]);
});
beforeEach(async () => {
  fake = await startFakeGitLab();
  fake.addRunner({ token: RUNNER });
  fake.addProject({ path: 'acme/widget', repo: widget });
  fake.addProject({ path: 'acme/lib', repo: lib });
  fake.addProject({ path: 'acme/super', repo: superproject });
  workRoot = await mkdtemp(join(tmpdir(), 'tart-git-test-'));
});
afterEach(async () => {
  await fake.close();
  await rm(workRoot, { recursive: true, force: true });
});

/** gitlab-runner's fetch path (execution reference §3.3 d) into `dir`. */
async function fetchLikeRunner(dir: string, git: WireJobPayload['git_info']): Promise<void> {
  await runGit(workRoot, ['init', '--quiet', dir]);
  await runGit(dir, ['remote', 'add', 'origin', git.repo_url]);
  await runGit(dir, [
    '-c',
    'http.userAgent=gitlab-runner 19.4.0 linux/amd64',
    'fetch',
    'origin',
    '--no-recurse-submodules',
    ...git.refspecs,
    '--depth',
    String(git.depth),
    '--prune',
    '--quiet',
  ]);
  await runGit(dir, ['-c', 'submodule.recurse=false', 'checkout', '-f', '-q', git.sha]);
}

describe('git smart HTTP', () => {
  it('serves a job its commit over refs/pipelines/<id> and the branch refspec, with the job token', async () => {
    const job = await runningJob(fake, RUNNER);
    const dir = join(workRoot, 'widget');
    await fetchLikeRunner(dir, job.payload.git_info);
    assert.equal(await runGit(dir, ['rev-parse', 'HEAD']), widget.head());
    assert.equal(
      await runGit(dir, ['rev-parse', `refs/pipelines/${job.payload.job_info.pipeline_id}`]),
      widget.head(),
    );
    assert.equal(await readFile(join(dir, 'app.txt'), 'utf8'), 'v1\n');
    const gitRequests = fake.requests.filter((r) => r.endpoint === 'git');
    assert.ok(gitRequests.some((r) => r.status === 200 && r.path.endsWith('/git-upload-pack')));
    assert.ok(!JSON.stringify(fake.requests).includes(job.token));
  });

  it('speaks protocol v2 when the client asks for it through Git-Protocol', async () => {
    const job = await runningJob(fake, RUNNER);
    await runGit(workRoot, [
      '-c',
      'protocol.version=2',
      'clone',
      '--quiet',
      job.payload.git_info.repo_url,
      join(workRoot, 'v2'),
    ]);
    const served = fake.requests.filter((r) => r.endpoint === 'git' && r.status === 200);
    assert.ok(served.length >= 2);
    assert.ok(served.every((r) => r.gitProtocol === 'version=2'));
  });

  it('answers 401 with WWW-Authenticate: Basic without credentials or with a wrong token', async () => {
    const job = await runningJob(fake, RUNNER);
    const anonymous = job.payload.git_info.repo_url.replace(/\/\/[^@]+@/, '//');
    await assert.rejects(runGit(workRoot, ['clone', '--quiet', anonymous, join(workRoot, 'anon')]));
    const wrong = job.payload.git_info.repo_url.replace(job.token, 'glcbt-64_wrongwrongwrongwrong');
    await assert.rejects(
      runGit(workRoot, ['clone', '--quiet', wrong, join(workRoot, 'wrong')]),
      /Authentication failed|401/,
    );
    const answer = await callApi(fake.url, {
      method: 'GET',
      path: 'acme/widget.git/info/refs?service=git-upload-pack',
    });
    assert.deepEqual([answer.status, answer.headers['www-authenticate']], [401, 'Basic realm="GitLab"']);
  });

  it('stops accepting the token once the job has finished', async () => {
    const job = await runningJob(fake, RUNNER);
    await runGit(workRoot, ['clone', '--quiet', job.payload.git_info.repo_url, join(workRoot, 'during')]);
    await callApi(fake.url, {
      method: 'PUT',
      path: `api/v4/jobs/${job.id}`,
      json: { token: job.token, state: 'success' },
      headers: { 'JOB-TOKEN': job.token },
    });
    await assert.rejects(
      runGit(workRoot, ['clone', '--quiet', job.payload.git_info.repo_url, join(workRoot, 'after')]),
      /Authentication failed|401/,
    );
  });

  it('refuses pushes with a job token and unknown projects with 404', async () => {
    const job = await runningJob(fake, RUNNER);
    const dir = join(workRoot, 'push');
    await runGit(workRoot, ['clone', '--quiet', job.payload.git_info.repo_url, dir]);
    await runGit(dir, ['commit', '--quiet', '--allow-empty', '-m', 'sneaky']);
    await assert.rejects(runGit(dir, ['push', 'origin', 'HEAD:refs/heads/main']), /403|not allowed/);
    const missing = job.payload.git_info.repo_url.replace('acme/widget', 'acme/missing');
    await assert.rejects(
      runGit(workRoot, ['clone', '--quiet', missing, join(workRoot, 'missing')]),
      /not found|404/,
    );
  });

  it('resolves a relative submodule URL to another served project with the same credentials', async () => {
    const job = await runningJob(fake, RUNNER, { project: 'acme/super' });
    const dir = join(workRoot, 'super');
    await fetchLikeRunner(dir, job.payload.git_info);
    assert.equal(
      await readFile(join(dir, '.gitmodules'), 'utf8'),
      '[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = ../lib.git\n',
    );
    await runGit(dir, ['submodule', 'update', '--init']);
    assert.equal(await readFile(join(dir, 'vendor/lib/lib.txt'), 'utf8'), 'library\n');
  });

  it('lets a second job fetch a commit added after the first into the same checkout', async () => {
    const first = await runningJob(fake, RUNNER);
    const dir = join(workRoot, 'reuse');
    await fetchLikeRunner(dir, first.payload.git_info);
    const sha = await widget.addCommit({ files: { 'app.txt': 'v2\n' }, message: 'Bump' });
    const second = await runningJob(fake, RUNNER);
    assert.deepEqual(
      [second.payload.git_info.sha, second.payload.git_info.before_sha],
      [sha, first.payload.git_info.sha],
    );
    await runGit(dir, ['remote', 'set-url', 'origin', second.payload.git_info.repo_url]);
    await runGit(dir, [
      'fetch',
      'origin',
      ...second.payload.git_info.refspecs,
      '--depth',
      '20',
      '--prune',
      '--quiet',
    ]);
    await runGit(dir, ['checkout', '-f', '-q', sha]);
    assert.equal(await readFile(join(dir, 'app.txt'), 'utf8'), 'v2\n');
  });

  it('builds tag jobs with tag refspecs, and full-depth jobs with wildcard refspecs', async () => {
    const tag = await runningJob(fake, RUNNER, { ref: 'v1.0.0' });
    assert.equal(tag.payload.git_info.ref_type, 'tag');
    assert.equal(tag.payload.git_info.refspecs[1], '+refs/tags/v1.0.0:refs/tags/v1.0.0');
    await fetchLikeRunner(join(workRoot, 'tag'), tag.payload.git_info);
    const full = await runningJob(fake, RUNNER, { depth: 0 });
    assert.deepEqual(full.payload.git_info.refspecs.slice(1), [
      '+refs/heads/*:refs/remotes/origin/*',
      '+refs/tags/*:refs/tags/*',
    ]);
  });

  it('streams a chunked upload-pack request through to the backend and back', async () => {
    const job = await runningJob(fake, RUNNER);
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    const request = `${pkt(`want ${widget.head()}\n`)}0000${pkt('done\n')}`;
    const answer = await callApi(fake.url, {
      method: 'POST',
      path: 'acme/widget.git/git-upload-pack',
      body: [Buffer.from(request.slice(0, 20)), Buffer.from(request.slice(20))],
      headers: {
        Authorization: `Basic ${Buffer.from(`gitlab-ci-token:${job.token}`).toString('base64')}`,
        'Content-Type': 'application/x-git-upload-pack-request',
      },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/x-git-upload-pack-result');
    assert.equal(answer.bytes.subarray(0, 8).toString(), '0008NAK\n');
    assert.equal(answer.bytes.subarray(8, 12).toString(), 'PACK');
  });

  it('fails a clone when a git fault is injected', async () => {
    const job = await runningJob(fake, RUNNER);
    fake.injectFault({ endpoint: 'git', kind: 'status', status: 503 });
    await assert.rejects(
      runGit(workRoot, ['clone', '--quiet', job.payload.git_info.repo_url, join(workRoot, 'fault')]),
      /503/,
    );
  });
});
