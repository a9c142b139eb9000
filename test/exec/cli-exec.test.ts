// `tart exec` through commander, in-process, the way a user types it (the lead wires it into main.ts).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { tart } from './exec-cli.js';
import { createRepository } from './git-helpers.js';

const CI = `
stages: [build, test, deploy]
default:
  cache:
    key: shared
    paths: [.cache/]
.base:
  image: alpine:3.20
  script: [echo base]
build:
  extends: .base
  stage: build
test:
  stage: test
  needs: [build]
  script: [echo test]
deploy:
  stage: deploy
  when: manual
  script: [echo deploy]
lint:
  stage: test
  allow_failure: true
  script: [echo lint]
  rules:
    - if: $RUN_LINT == "yes"
`;

describe('tart exec (command line)', () => {
  const repo = createRepository({ '.gitlab-ci.yml': CI });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('--list prints each job with its stage, when and needs', async () => {
    const { code, stdout } = await tart(['exec', '--list', '--cwd', repo]);
    assert.equal(code, 0);
    assert.deepEqual(
      stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split(/\s{2,}/)),
      [
        ['JOB', 'STAGE', 'WHEN', 'NEEDS'],
        ['build', 'build', 'on_success'],
        ['test', 'test', 'on_success', 'build'],
        ['deploy', 'deploy', 'manual (allow_failure)'],
      ],
    );
  });

  it('--variable feeds rules:if', async () => {
    const { stdout } = await tart(['exec', '--list', '--cwd', repo, '--variable', 'RUN_LINT=yes']);
    assert.match(stdout, /\nlint\s+test\s+on_success \(allow_failure\)/);
  });

  it('--preview prints the expanded configuration as YAML', async () => {
    const { code, stdout } = await tart(['exec', '--preview', '--cwd', repo]);
    assert.equal(code, 0);
    const preview = parse(stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(preview.stages, ['.pre', 'build', 'test', 'deploy', '.post']);
    assert.deepEqual(preview.build, {
      image: 'alpine:3.20',
      script: ['echo base'],
      stage: 'build',
      cache: { key: 'shared', paths: ['.cache/'] },
    });
    assert.doesNotMatch(stdout, /[&*]a\d/, 'no YAML anchors or aliases in the preview');
    assert.equal(preview['.base'], undefined, 'hidden jobs are not shown');
  });

  it('names an unknown job without a stack trace and exits 1', async () => {
    const { code, stderr } = await tart([
      'exec',
      '--executor',
      'shell',
      'nope',
      '--cwd',
      repo,
      '--builds-dir',
      `${repo}/.builds`,
      '--cache-dir',
      `${repo}/.cache`,
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /no job named "nope"/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('tells the user to commit (or use --dirty) when the CI file is not committed', async () => {
    const fresh = createRepository({ 'app.txt': 'x' });
    try {
      writeFileSync(join(fresh, '.gitlab-ci.yml'), 'job:\n  script: [echo]\n');
      const committedOnly = await tart(['exec', '--list', '--cwd', fresh]);
      assert.equal(committedOnly.code, 1);
      assert.match(committedOnly.stderr, /\.gitlab-ci\.yml is not committed; commit it or run with --dirty/);
      const dirty = await tart(['exec', '--list', '--dirty', '--cwd', fresh]);
      assert.equal(dirty.code, 0, dirty.stderr);
      assert.match(dirty.stdout, /\njob\s+test\s+on_success/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('reports configuration errors with file and line', async () => {
    const broken = createRepository({ '.gitlab-ci.yml': 'test:\n  needs: [missing]\n  script: [echo]\n' });
    try {
      const { code, stderr } = await tart(['exec', '--list', '--cwd', broken]);
      assert.equal(code, 1);
      assert.match(stderr, /\.gitlab-ci\.yml:1: job "test": needs unknown job "missing"/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
