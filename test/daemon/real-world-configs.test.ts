// Acceptance: configs as gitlab-runner writes them run a job through `tart run` (fake GitLab,
// shell executor, real bash and git). Only url/token and the dirs are pointed at the test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createExecutorFor } from '../../src/executor/factory.js';
import { parseConfig } from '../../src/config/load.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startDaemon, type Harness } from './daemon-harness.js';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'config', 'fixtures', name), 'utf8');

// Points a fixture's runner at the fake and the harness dir, leaving every other line as written.
function pointAt(text: string, url: string, token: string): string {
  return text
    .replace(/^( *)url = .*$/m, `$1url = "${url}"`)
    .replace(/^( *)token = .*$/m, `$1token = "${token}"`)
    .replace(
      /^( *)executor = (.*)$/m,
      '$1executor = $2\n$1builds_dir = "{{dir}}/builds"\n$1cache_dir = "{{dir}}/cache"',
    )
    .replace(/^ *builds_dir = ""\n|^ *cache_dir = ""\n/gm, '')
    .replace(/^listen_address = .*$/m, 'listen_address = "127.0.0.1:0"')
    .replace(/^check_interval = .*$/m, 'check_interval = 1');
}

describe('real-world config.toml files run jobs', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;
  const harnesses: Harness[] = [];

  before(async () => {
    fake = await startFakeGitLab({ traceUpdateInterval: 1 });
    repo = await createRepo({ files: { 'README.md': '# widget\n' } });
    fake.addProject({ path: 'acme/widget', repo });
  });

  after(async () => {
    for (const harness of harnesses) await harness.cleanup();
    await fake.close();
    await repo.cleanup();
  });

  async function runWith(
    configText: string,
    token: string,
    env: NodeJS.ProcessEnv = {},
    variables: { key: string; value: string }[] = [],
  ) {
    fake.addRunner({ token });
    const harness = await startDaemon({ url: fake.url, token, configText, env });
    harnesses.push(harness);
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['echo "job ran in $PWD"', 'cat README.md'],
      variables: variables.map((v) => ({ ...v, public: true })),
    });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 30_000);
    harness.daemon.stopGracefully();
    await harness.daemon.whenStopped();
    return { done, harness };
  }

  it('as `gitlab-runner register` writes it', async () => {
    const token = 'glrt-register_written_0001';
    const { done } = await runWith(pointAt(fixture('register-shell.toml'), fake.url, token), token);
    assert.equal(done.state, 'success');
    assert.match(done.trace.toString(), /# widget/);
    assert.deepEqual(fake.violations, []);
  });

  it('a production shell runner: $VAR url/token, pre/post build scripts, custom_build_dir with GIT_CLONE_PATH', async () => {
    const token = 'glrt-production_shell_0001';
    const text = pointAt(fixture('production-shell.toml'), '$GITLAB_URL', '${RUNNER_TOKEN}').replace(
      /^ *tls-ca-file = .*\n/m,
      '',
    );
    const { done } = await runWith(text, token, { GITLAB_URL: fake.url, RUNNER_TOKEN: token }, [
      { key: 'GIT_CLONE_PATH', value: '$CI_BUILDS_DIR/custom/widget' },
    ]);
    assert.equal(done.state, 'success', done.trace.toString());
    const trace = done.trace.toString();
    const pre = trace.indexOf('pre-build from config');
    const script = trace.indexOf('job ran in ');
    const post = trace.indexOf('post-build from config');
    assert.ok(
      pre > 0 && script > pre && post > script,
      'pre_build_script, the script, post_build_script in order',
    );
    assert.match(trace, /job ran in \S+\/builds\/\S*custom\/widget\r?\n/);
    assert.match(trace, /pre-get-sources/);
  });

  it('a shell runner without [runners.custom_build_dir] enabled refuses GIT_CLONE_PATH', async () => {
    const token = 'glrt-no_custom_build_dir_01';
    const { done } = await runWith(pointAt(fixture('register-shell.toml'), fake.url, token), token, {}, [
      { key: 'GIT_CLONE_PATH', value: '$CI_BUILDS_DIR/custom/widget' },
    ]);
    assert.equal(done.state, 'failed');
    assert.match(
      done.trace.toString(),
      /setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature/,
    );
  });

  it("a docker runner's leftovers with executor = qemu make a qemu executor with the VM settings", () => {
    const config = parseConfig(fixture('docker-leftovers-as-qemu.toml'), 'config.toml', {
      imageDir: '/images/current',
      hostname: 'h',
    });
    const runner = config.runners[0];
    assert.ok(runner);
    assert.equal(createExecutorFor(runner).name, 'qemu');
  });
});
