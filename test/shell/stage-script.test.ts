import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobPayload, JobStep } from '../../src/model/payload.js';
import { maskText } from '../../src/masking/secret-masker.js';
import { buildStageScript, type ScriptContext, type ScriptStage } from '../../src/shell/stage-script.js';
import { JOB_TOKEN, makeContext, makeJob, makeTempDir, runBash } from './helpers.js';

describe('stage scripts run by real bash', () => {
  const root = makeTempDir('tart-stage-');
  after(() => root.remove());
  let counter = 0;

  function context(
    steps: JobStep[],
    extra: Partial<ScriptContext> = {},
    jobOverrides: Partial<JobPayload> = {},
  ): ScriptContext {
    const job = makeJob({
      steps,
      variables: [
        { key: 'CI_JOB_TOKEN', value: JOB_TOKEN, masked: true },
        { key: 'GREETING', value: 'hello $CI_JOB_STATUS' },
        { key: 'SECRET_FILE', value: 'top secret\n', file: true },
      ],
      ...jobOverrides,
    });
    const buildsDir = join(root.path, `builds-${counter++}`);
    const ctx = makeContext({ job, buildsDir, extra: { runnerHostname: 'tart-host', ...extra } });
    mkdirSync(ctx.projectDir, { recursive: true });
    return ctx;
  }

  async function run(stage: ScriptStage, ctx: ScriptContext) {
    const script = buildStageScript(stage, ctx);
    assert.ok(script !== undefined, `${stage} has a script`);
    return runBash(script, { cwd: root.path });
  }

  it('prepare_script says where it runs and resets GITLAB_ENV, without exporting variables', async () => {
    const ctx = context([]);
    const script = buildStageScript('prepare_script', ctx) ?? '';
    assert.ok(!script.includes(JOB_TOKEN));
    const result = await run('prepare_script', ctx);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^Running on .+ via tart-host\.\.\.\n$/);
  });

  it('step_script runs the lines in the project dir between pre and post build scripts, echoing each', async () => {
    const ctx = context(
      [{ name: 'script', script: ['echo "$GREETING from $(basename "$PWD")"', 'cat "$SECRET_FILE"'] }],
      {
        preBuildScript: 'echo pre',
        postBuildScript: 'echo post',
      },
    );
    const result = await run('step_script', ctx);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        '\x1b[32;1m$ echo pre\x1b[0;m',
        'pre',
        '\x1b[32;1m$ echo "$GREETING from $(basename "$PWD")"\x1b[0;m',
        'hello running from widget',
        '\x1b[32;1m$ cat "$SECRET_FILE"\x1b[0;m',
        'top secret',
        '\x1b[32;1m$ echo post\x1b[0;m',
        'post',
        '',
      ].join('\n'),
    );
    assert.equal(statSync(join(ctx.tmpDir, 'SECRET_FILE')).mode & 0o777, 0o600);
  });

  it('step_script stops at the first failing line and exits with its code', async () => {
    const ctx = context([{ name: 'script', script: ['echo one', 'sh -c "exit 42"', 'echo never'] }]);
    const result = await run('step_script', ctx);
    assert.equal(result.exitCode, 42);
    assert.doesNotMatch(result.stdout, /never/);
  });

  it('shows a multi-line command as its first line, or as a section with FF_SCRIPT_SECTIONS', async () => {
    const steps = [{ name: 'script', script: ['for i in 1 2; do\n  echo "n$i"\ndone'] }];
    const plain = await run('step_script', context(steps));
    assert.equal(
      plain.stdout,
      '\x1b[32;1m$ for i in 1 2; do # collapsed multi-line command\x1b[0;m\nn1\nn2\n',
    );
    const withSections = context(steps, { traceSections: true });
    withSections.variables.push({ key: 'FF_SCRIPT_SECTIONS', value: 'true' });
    const sectioned = await run('step_script', withSections);
    assert.match(
      sectioned.stdout,
      /^section_start:\d+:section_script_step_0\[hide_duration=true,collapsed=true\]\r\x1b\[0K\x1b\[32;1m\$ for i in 1 2; do\n {2}echo "n\$i"\ndone\x1b\[0;m\nsection_end:\d+:section_script_step_0\r\x1b\[0K\nn1\nn2\n$/,
    );
  });

  it('expands the lines of a release step, and only those', async () => {
    const ctx = context([{ name: 'release', script: ["echo '$$HOME-literal $CI_JOB_STATUS'"] }]);
    const result = await run('step_release', ctx);
    assert.equal(result.stdout.split('\n')[1], '$HOME-literal running');
  });

  it('after_script sees the outcome in CI_JOB_STATUS and what earlier stages put in GITLAB_ENV', async () => {
    const ctx = context(
      [
        { name: 'script', script: ['echo "CARRIED=from step" >> "$GITLAB_ENV"', 'exit 3'] },
        { name: 'after_script', script: ['echo "$CI_JOB_STATUS / $CARRIED / $PWD"'] },
      ],
      { jobStatus: 'failed' },
    );
    assert.equal((await run('step_script', ctx)).exitCode, 3);
    const result = await run('after_script', ctx);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout,
      `\x1b[32;1mRunning after script...\x1b[0;m\n\x1b[32;1m$ echo "$CI_JOB_STATUS / $CARRIED / $PWD"\x1b[0;m\nfailed / from step / ${ctx.projectDir}\n`,
    );
  });

  it('has nothing to run for a missing step or an empty after_script', () => {
    const ctx = context([
      { name: 'script', script: ['true'] },
      { name: 'after_script', script: [] },
    ]);
    assert.equal(buildStageScript('after_script', ctx), undefined);
    assert.equal(buildStageScript('step_release', ctx), undefined);
  });

  it('cleanup_file_variables removes file variables and runner files without writing them again', async () => {
    const ctx = context([{ name: 'script', script: ['true'] }]);
    assert.equal((await run('step_script', ctx)).exitCode, 0);
    assert.ok(existsSync(join(ctx.tmpDir, 'SECRET_FILE')));
    const script = buildStageScript('cleanup_file_variables', ctx) ?? '';
    assert.ok(!script.includes('top secret'), 'cleanup does not carry file contents');
    const result = await run('cleanup_file_variables', ctx);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(existsSync(join(ctx.tmpDir, 'SECRET_FILE')), false);
    assert.equal(existsSync(join(ctx.tmpDir, 'gitlab_runner_env')), false);
  });

  it('with CI_DEBUG_TRACE every executed line reaches stderr, where masking must hide the token', async () => {
    const ctx = context([{ name: 'script', script: ['echo traced'] }], { debugTrace: true });
    const result = await run('step_script', ctx);
    assert.equal(result.exitCode, 0);
    assert.match(result.stderr, /\+ echo traced/);
    assert.ok(result.stderr.includes(JOB_TOKEN), 'xtrace shows the exports');
    assert.ok(!maskText(result.stderr, [JOB_TOKEN]).includes(JOB_TOKEN));
  });

  it('never puts a file variable’s contents in its export line', () => {
    const ctx = context([{ name: 'script', script: ['true'] }]);
    const script = buildStageScript('step_script', ctx) ?? '';
    assert.match(script, /export SECRET_FILE="[^"]+\/widget\.tmp\/SECRET_FILE"/);
  });
});
