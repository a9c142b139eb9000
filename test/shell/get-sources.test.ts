import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import type { JobPayload, JobVariable } from '../../src/model/payload.js';
import { projectDirFor } from '../../src/job/variables.js';
import { buildStageScript, type ScriptContext, type ScriptStage } from '../../src/shell/stage-script.js';
import {
  JOB_TOKEN,
  makeContext,
  makeJob,
  makeRunner,
  makeTempDir,
  runBash,
  type BashResult,
} from './helpers.js';

// git in tests: no user or system config, file:// allowed for submodules (git ≥ 2.38.1 forbids it).
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'protocol.file.allow',
  GIT_CONFIG_VALUE_0: 'always',
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, ...GIT_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

// Walks `dir` and returns files whose contents include `needle`.
function filesContaining(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
}

describe('get_sources against real git repositories', { concurrency: 4 }, () => {
  const root = makeTempDir('tart-git-');
  const srv = join(root.path, 'srv');
  const work = join(root.path, 'work');
  const shas: string[] = [];

  // Bare repos acme/widget (3 commits, submodule "sub") → acme/sub (submodule "nested") → acme/nested.
  before(() => {
    mkdirSync(work, { recursive: true });
    for (const name of ['nested', 'sub', 'widget'])
      git(root.path, 'init', '-q', '--bare', '-b', 'main', join(srv, 'acme', `${name}.git`));
    const seed = (name: string, files: Record<string, string>, submodule?: [string, string]): string => {
      const dir = join(work, name);
      git(work, 'clone', '-q', `file://${srv}/acme/${name}.git`, dir);
      git(dir, 'checkout', '-q', '-b', 'main');
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
      if (submodule) git(dir, 'submodule', 'add', '-q', submodule[0], submodule[1]);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', `seed ${name}`);
      git(dir, 'push', '-q', 'origin', 'main');
      return dir;
    };
    seed('nested', { 'nested.txt': 'nested\n' });
    seed('sub', { 'sub.txt': 'sub\n' }, ['../nested.git', 'nested']);
    const widget = seed('widget', { 'README.md': 'one\n', '.gitignore': 'ignored.log\n' }, [
      '../sub.git',
      'sub',
    ]);
    shas.push(git(widget, 'rev-parse', 'HEAD'));
    for (const text of ['two\n', 'three\n']) {
      writeFileSync(join(widget, 'README.md'), text);
      git(widget, 'commit', '-q', '-am', text.trim());
      git(widget, 'push', '-q', 'origin', 'main');
      shas.push(git(widget, 'rev-parse', 'HEAD'));
    }
  });
  after(() => root.remove());

  let counter = 0;
  // A job for the widget repo whose URL carries the job token, like GitLab's.
  function widgetJob(
    input: {
      variables?: JobVariable[];
      depth?: number;
      sha?: string;
      repoUrl?: string;
      hooks?: JobPayload['hooks'];
    } = {},
  ): JobPayload {
    const depth = input.depth ?? 0;
    return makeJob(
      {
        variables: [{ key: 'CI_JOB_TOKEN', value: JOB_TOKEN, masked: true }, ...(input.variables ?? [])],
        hooks: input.hooks ?? [],
      },
      {
        repo_url: input.repoUrl ?? `file://gitlab-ci-token:${JOB_TOKEN}@${srv}/acme/widget.git`,
        sha: input.sha ?? shas[2],
        depth,
        refspecs:
          depth > 0
            ? ['+refs/heads/main:refs/remotes/origin/main']
            : ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'],
      },
    );
  }

  // A fresh builds dir per test, so tests do not share checkouts.
  function freshContext(
    job: JobPayload,
    extra: Partial<ScriptContext> = {},
    runner = makeRunner(),
  ): ScriptContext {
    const buildsDir = join(root.path, `builds-${counter++}`);
    const projectDir = projectDirFor({ job, buildsDir });
    return makeContext({ job, buildsDir, projectDir, runner, extra });
  }

  // Rebuilds the variable list for `job` in the same directories as `ctx` (a later run of the same project).
  function rerun(ctx: ScriptContext, job: JobPayload): ScriptContext {
    return makeContext({
      job,
      buildsDir: ctx.buildsDir,
      projectDir: ctx.projectDir,
      runner: ctx.runner,
      extra: { executorName: ctx.executorName },
    });
  }

  async function runStage(stage: ScriptStage, ctx: ScriptContext): Promise<BashResult & { output: string }> {
    const script = buildStageScript(stage, ctx);
    assert.ok(script, `${stage} has a script`);
    const result = await runBash(script, { cwd: root.path, env: GIT_ENV });
    return { ...result, output: result.stdout + result.stderr };
  }

  const head = (dir: string): string => git(dir, 'rev-parse', 'HEAD');
  const commitCount = (dir: string): number => Number(git(dir, 'rev-list', '--count', 'HEAD'));

  it('clones the exact sha shallowly without the token in the remote, .git/config or the output', async () => {
    const ctx = freshContext(widgetJob({ depth: 1 }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Fetching changes with git depth set to 1\.\.\./);
    assert.match(result.stdout, /Initialized empty Git repository in .*\/acme\/widget\/\.git\//);
    assert.match(result.stdout, /\x1b\[32;1mCreated fresh repository\.\x1b\[0;m/);
    assert.match(
      result.stdout,
      new RegExp(`Checking out ${shas[2]?.slice(0, 8)} as detached HEAD \\(ref is main\\)\\.\\.\\.`),
    );
    assert.match(result.stdout, /Skipping Git submodules setup/);
    assert.equal(head(ctx.projectDir), shas[2]);
    assert.equal(commitCount(ctx.projectDir), 1);
    assert.equal(readFileSync(join(ctx.projectDir, 'README.md'), 'utf8'), 'three\n');
    assert.equal(
      git(ctx.projectDir, 'config', '--get', 'remote.origin.url'),
      `file://${srv}/acme/widget.git`,
    );
    assert.ok(!result.output.includes(JOB_TOKEN), 'token in the trace');
    assert.deepEqual(filesContaining(ctx.projectDir, JOB_TOKEN), [], 'token inside the project dir');
    const extConfig = join(ctx.tmpDir, '.gitlab-runner.ext.conf');
    const credentials = join(ctx.tmpDir, '.gitlab-runner.credentials');
    assert.equal(statSync(extConfig).mode & 0o777, 0o600);
    assert.equal(statSync(credentials).mode & 0o777, 0o600);
    assert.deepEqual(
      filesContaining(ctx.buildsDir, JOB_TOKEN),
      [credentials],
      'the token is on disk only in the 0600 credentials file',
    );
    assert.equal(git(ctx.projectDir, 'config', '--get', 'include.path'), extConfig);

    const cleanup = await runStage('cleanup_file_variables', ctx);
    assert.equal(cleanup.exitCode, 0, cleanup.output);
    assert.equal(existsSync(extConfig), false);
    assert.equal(existsSync(credentials), false);
    assert.deepEqual(filesContaining(ctx.buildsDir, JOB_TOKEN), []);
  });

  it('offers the job token to git for the GitLab host through the credential helper, and nowhere else', async () => {
    const job = widgetJob({
      repoUrl: `https://gitlab-ci-token:${JOB_TOKEN}@gitlab.invalid:8443/acme/widget.git`,
      variables: [{ key: 'CI_PROJECT_PATH', value: 'acme/widget' }],
    });
    const ctx = freshContext(job, {}, makeRunner({ cloneUrl: `file://${srv}` }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    const fill = (host: string): string =>
      execFileSync('git', ['credential', 'fill'], {
        cwd: ctx.projectDir,
        input: `protocol=https\nhost=${host}\n\n`,
        env: { PATH: process.env.PATH, HOME: root.path, GIT_TERMINAL_PROMPT: '0', ...GIT_ENV },
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'ignore'],
      });
    assert.match(
      fill('gitlab.invalid:8443'),
      new RegExp(`username=gitlab-ci-token\npassword=${JOB_TOKEN}\n`),
    );
    assert.throws(() => fill('elsewhere.invalid'), 'no credentials for other hosts');
  });

  it('rewrites SSH submodule URLs on the GitLab host to HTTPS with GIT_SUBMODULE_FORCE_HTTPS', async () => {
    const variables = [
      { key: 'CI_PROJECT_PATH', value: 'acme/widget' },
      { key: 'GIT_SUBMODULE_FORCE_HTTPS', value: 'true' },
      { key: 'CI_SERVER_SHELL_SSH_HOST', value: 'ssh.gitlab.invalid' },
      { key: 'CI_SERVER_SHELL_SSH_PORT', value: '2222' },
    ];
    const job = widgetJob({
      repoUrl: `https://gitlab-ci-token:${JOB_TOKEN}@gitlab.invalid/acme/widget.git`,
      variables,
    });
    const ctx = freshContext(job, {}, makeRunner({ cloneUrl: `file://${srv}` }));
    assert.equal((await runStage('get_sources', ctx)).exitCode, 0);
    const resolve = (url: string): string => git(ctx.projectDir, 'ls-remote', '--get-url', url);
    assert.equal(resolve('git@ssh.gitlab.invalid:acme/lib.git'), 'https://gitlab.invalid/acme/lib.git');
    assert.equal(
      resolve('ssh://git@ssh.gitlab.invalid:2222/acme/lib.git'),
      'https://gitlab.invalid/acme/lib.git',
    );
    assert.equal(resolve('git@elsewhere.invalid:acme/lib.git'), 'git@elsewhere.invalid:acme/lib.git');
  });

  it('answers an HTTP Basic challenge with the job token while the remote URL has none', async () => {
    const seen: Array<{ url: string; authorization?: string }> = [];
    const server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
      if (!request.headers.authorization) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="GitLab"' }).end();
      } else {
        response.writeHead(403).end('forbidden');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const ctx = freshContext(
        widgetJob({
          depth: 1,
          repoUrl: `http://gitlab-ci-token:${JOB_TOKEN}@127.0.0.1:${port}/acme/widget.git`,
        }),
      );
      const result = await runStage('get_sources', ctx);
      assert.notEqual(result.exitCode, 0);
      assert.equal(seen[0]?.authorization, undefined, 'the URL itself carries no credentials');
      const expected = `Basic ${Buffer.from(`gitlab-ci-token:${JOB_TOKEN}`).toString('base64')}`;
      assert.ok(
        seen.some((request) => request.authorization === expected),
        JSON.stringify(seen),
      );
      assert.ok(!result.output.includes(JOB_TOKEN), result.output);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fetches into the existing checkout on a rerun, cleans it, and unshallows when depth is 0', async () => {
    const first = freshContext(widgetJob({ depth: 1 }));
    const firstResult = await runStage('get_sources', first);
    assert.equal(firstResult.exitCode, 0, firstResult.output);
    assert.equal(commitCount(first.projectDir), 1);
    writeFileSync(join(first.projectDir, 'untracked.txt'), 'x');
    writeFileSync(join(first.projectDir, 'ignored.log'), 'x');

    const second = rerun(
      first,
      widgetJob({ depth: 0, variables: [{ key: 'GIT_STRATEGY', value: 'fetch' }] }),
    );
    const result = await runStage('get_sources', second);
    assert.equal(result.exitCode, 0, result.output);

    assert.match(result.stdout, /Fetching changes\.\.\./);
    assert.match(result.stdout, /Reinitialized existing Git repository/);
    assert.doesNotMatch(result.stdout, /Created fresh repository/);
    assert.equal(head(second.projectDir), shas[2]);
    assert.equal(commitCount(second.projectDir), 3);
    assert.equal(existsSync(join(second.projectDir, 'untracked.txt')), false);
    assert.equal(existsSync(join(second.projectDir, 'ignored.log')), false);
  });

  it('on a non-shell executor drops .git/config and hooks a previous job left before fetching again', async () => {
    const first = freshContext(widgetJob(), { executorName: 'qemu' });
    assert.equal((await runStage('get_sources', first)).exitCode, 0);
    git(first.projectDir, 'config', 'core.planted', 'yes');
    mkdirSync(join(first.projectDir, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(first.projectDir, '.git', 'hooks', 'post-merge'), '#!/bin/sh\necho planted\n', {
      mode: 0o755,
    });
    writeFileSync(join(first.projectDir, '.git', 'index.lock'), '');
    const second = rerun(first, widgetJob({ variables: [{ key: 'GIT_STRATEGY', value: 'fetch' }] }));
    const result = await runStage('get_sources', second);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Created fresh repository/);
    assert.throws(() => git(second.projectDir, 'config', '--get', 'core.planted'));
    assert.equal(existsSync(join(second.projectDir, '.git', 'hooks', 'post-merge')), false);
    assert.equal(head(second.projectDir), shas[2]);
  });

  it('keeps untracked files with GIT_CLEAN_FLAGS=none and applies custom clean flags', async () => {
    const ctx = freshContext(widgetJob());
    assert.equal((await runStage('get_sources', ctx)).exitCode, 0);
    writeFileSync(join(ctx.projectDir, 'untracked.txt'), 'x');
    writeFileSync(join(ctx.projectDir, 'ignored.log'), 'x');
    const keep = rerun(
      ctx,
      widgetJob({
        variables: [
          { key: 'GIT_STRATEGY', value: 'fetch' },
          { key: 'GIT_CLEAN_FLAGS', value: 'none' },
        ],
      }),
    );
    assert.equal((await runStage('get_sources', keep)).exitCode, 0);
    assert.ok(existsSync(join(ctx.projectDir, 'untracked.txt')));
    const noIgnored = rerun(
      ctx,
      widgetJob({
        variables: [
          { key: 'GIT_STRATEGY', value: 'fetch' },
          { key: 'GIT_CLEAN_FLAGS', value: '-f -d' },
        ],
      }),
    );
    assert.equal((await runStage('get_sources', noIgnored)).exitCode, 0);
    assert.equal(existsSync(join(ctx.projectDir, 'untracked.txt')), false);
    assert.ok(existsSync(join(ctx.projectDir, 'ignored.log')), '-f -d leaves ignored files');
  });

  it('re-creates the checkout for GIT_STRATEGY=clone', async () => {
    const ctx = freshContext(widgetJob());
    assert.equal((await runStage('get_sources', ctx)).exitCode, 0);
    writeFileSync(join(ctx.projectDir, '.git', 'marker'), 'x');
    const again = rerun(ctx, widgetJob({ variables: [{ key: 'GIT_STRATEGY', value: 'clone' }] }));
    const result = await runStage('get_sources', again);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Created fresh repository/);
    assert.equal(existsSync(join(ctx.projectDir, '.git', 'marker')), false);
  });

  it('updates submodules with GIT_SUBMODULE_STRATEGY=normal (one level) using the parent credentials', async () => {
    const ctx = freshContext(widgetJob({ variables: [{ key: 'GIT_SUBMODULE_STRATEGY', value: 'normal' }] }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Updating\/initializing submodules\.\.\./);
    assert.match(result.stdout, /Updated submodules/);
    assert.match(result.stdout, /Configuring submodules to use parent git credentials\.\.\./);
    assert.equal(readFileSync(join(ctx.projectDir, 'sub', 'sub.txt'), 'utf8'), 'sub\n');
    assert.equal(existsSync(join(ctx.projectDir, 'sub', 'nested', 'nested.txt')), false);
    assert.ok(!result.output.includes(JOB_TOKEN));
    assert.deepEqual(filesContaining(join(ctx.projectDir), JOB_TOKEN), []);
  });

  it('updates nested submodules with GIT_SUBMODULE_STRATEGY=recursive and GIT_SUBMODULE_DEPTH', async () => {
    const ctx = freshContext(
      widgetJob({
        variables: [
          { key: 'GIT_SUBMODULE_STRATEGY', value: 'recursive' },
          { key: 'GIT_SUBMODULE_DEPTH', value: '1' },
        ],
      }),
    );
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(
      result.stdout,
      /Updating\/initializing submodules recursively with git depth set to 1\.\.\./,
    );
    assert.equal(readFileSync(join(ctx.projectDir, 'sub', 'nested', 'nested.txt'), 'utf8'), 'nested\n');
    assert.ok(!result.output.includes(JOB_TOKEN));
    // Submodule fetches also got the token only through the include, never into their config.
    assert.deepEqual(filesContaining(join(ctx.projectDir), JOB_TOKEN), []);
  });

  it('limits submodules to GIT_SUBMODULE_PATHS', async () => {
    const ctx = freshContext(
      widgetJob({
        variables: [
          { key: 'GIT_SUBMODULE_STRATEGY', value: 'normal' },
          { key: 'GIT_SUBMODULE_PATHS', value: ':(exclude)sub' },
        ],
      }),
    );
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(existsSync(join(ctx.projectDir, 'sub', 'sub.txt')), false);
  });

  it('rejects an unknown GIT_SUBMODULE_STRATEGY and a standalone :(exclude)', () => {
    const bad = freshContext(widgetJob({ variables: [{ key: 'GIT_SUBMODULE_STRATEGY', value: 'deep' }] }));
    assert.throws(
      () => buildStageScript('get_sources', bad),
      (error) => hasCode(error, 'INVALID_GIT_SUBMODULE_STRATEGY'),
    );
    const paths = freshContext(
      widgetJob({
        variables: [
          { key: 'GIT_SUBMODULE_STRATEGY', value: 'normal' },
          { key: 'GIT_SUBMODULE_PATHS', value: ':(exclude) sub' },
        ],
      }),
    );
    assert.throws(
      () => buildStageScript('get_sources', paths),
      (error) => hasCode(error, 'INVALID_GIT_SUBMODULE_PATHS'),
    );
  });

  it('creates only the directory for GIT_STRATEGY=none and skips hooks', async () => {
    const hooks = [{ name: 'pre_get_sources_script', script: ['echo PRE-HOOK'] }];
    const ctx = freshContext(widgetJob({ variables: [{ key: 'GIT_STRATEGY', value: 'none' }], hooks }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Skipping Git repository setup\x1b/);
    assert.match(result.stdout, /Skipping Git checkout/);
    assert.match(result.stdout, /Skipping Git submodules setup/);
    assert.doesNotMatch(result.stdout, /PRE-HOOK/);
    assert.ok(existsSync(ctx.projectDir));
    assert.equal(existsSync(join(ctx.projectDir, '.git')), false);
  });

  it('empties the -empty directory for GIT_STRATEGY=empty', async () => {
    const ctx = freshContext(widgetJob({ variables: [{ key: 'GIT_STRATEGY', value: 'empty' }] }));
    assert.ok(ctx.projectDir.endsWith('/acme/widget-empty'));
    mkdirSync(join(ctx.projectDir, 'old'), { recursive: true });
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Skipping Git repository setup and creating an empty build directory/);
    assert.deepEqual(readdirSync(ctx.projectDir), []);
  });

  it('runs pre hooks before the fetch and post hooks after the checkout, runner config outermost', async () => {
    const hooks = [
      { name: 'pre_get_sources_script', script: ['echo "payload-pre in $(basename "$PWD")"'] },
      { name: 'post_get_sources_script', script: ['echo "payload-post $(cat README.md)"'] },
    ];
    const runner = makeRunner({
      preGetSourcesScript: 'echo runner-pre',
      postGetSourcesScript: 'echo runner-post',
    });
    const ctx = freshContext(widgetJob({ hooks }), {}, runner);
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    const order = [
      '$ echo runner-pre',
      'runner-pre',
      'payload-pre in tart-git-',
      'Fetching changes',
      'Checking out',
      'payload-post three',
      'runner-post',
    ];
    const positions = order.map((text) => result.stdout.indexOf(text));
    assert.ok(
      positions.every((position) => position >= 0),
      `${JSON.stringify(positions)}\n${result.stdout}`,
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
    );
  });

  it('skips the checkout with GIT_CHECKOUT=false', async () => {
    const ctx = freshContext(widgetJob({ variables: [{ key: 'GIT_CHECKOUT', value: 'false' }] }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, /Skipping Git checkout/);
    assert.equal(existsSync(join(ctx.projectDir, 'README.md')), false);
  });

  it('fetches from clone_url/<CI_PROJECT_PATH>.git when the runner sets clone_url', async () => {
    const job = widgetJob({
      repoUrl: `https://gitlab-ci-token:${JOB_TOKEN}@gitlab.invalid/acme/widget.git`,
      variables: [{ key: 'CI_PROJECT_PATH', value: 'acme/widget' }],
    });
    const ctx = freshContext(job, {}, makeRunner({ cloneUrl: `file://${srv}/` }));
    const result = await runStage('get_sources', ctx);
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(head(ctx.projectDir), shas[2]);
    assert.equal(
      git(ctx.projectDir, 'config', '--get', 'remote.origin.url'),
      `file://${srv}/acme/widget.git`,
    );
  });

  it('fails with git’s exit code and still keeps the token out of the output', async () => {
    const ctx = freshContext(
      widgetJob({ repoUrl: `file://gitlab-ci-token:${JOB_TOKEN}@${srv}/acme/missing.git` }),
    );
    const result = await runStage('get_sources', ctx);
    assert.notEqual(result.exitCode, 0);
    assert.doesNotMatch(result.stdout, /Checking out/);
    assert.ok(!result.output.includes(JOB_TOKEN), result.output);
  });
});
