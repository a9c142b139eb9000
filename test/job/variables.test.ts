import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import type { JobVariable } from '../../src/model/payload.js';
import {
  buildJobVariables,
  expandVariables,
  getVariable,
  projectDirFor,
  shortRunnerToken,
} from '../../src/job/variables.js';
import { makeJob, makeRunner } from '../shell/helpers.js';

const vars = (entries: Record<string, string>): JobVariable[] =>
  Object.entries(entries).map(([key, value]) => ({ key, value }));

describe('expandVariables', () => {
  const list = vars({ A: 'alpha', B: 'b$A', EMPTY: '' });

  it('replaces $NAME and ${NAME} with the last occurrence, and unknown names with nothing', () => {
    assert.equal(expandVariables('x $A ${A}y $MISSING|', list), 'x alpha alphay |');
    assert.equal(expandVariables('$A', [...list, { key: 'A', value: 'later' }]), 'later');
  });

  it('expands once: a referenced value is used unexpanded', () => {
    assert.equal(expandVariables('[$B]', list), '[b$A]');
  });

  it('follows Go os.Expand on $$, specials, bad braces and lone dollars', () => {
    assert.equal(expandVariables('cost $$5 and $$A', list), 'cost $5 and $A');
    assert.equal(expandVariables('$1$*$#$@$!$?$-$0|${#}|', list), '||');
    assert.equal(expandVariables('a${}b', list), 'ab');
    assert.equal(expandVariables('a${A', list), 'aA');
    assert.equal(expandVariables('$/x $ end$', list), '$/x $ end$');
    assert.equal(expandVariables('${A B}', list), '');
    assert.equal(expandVariables('$1A', list), 'A');
  });

  it('expands a file variable reference to its path, not its contents', () => {
    const withFile: JobVariable[] = [
      { key: 'CERT', value: 'PEM', file: true },
      { key: 'RUNNER_TEMP_PROJECT_DIR', value: '/b/p.tmp' },
    ];
    assert.equal(expandVariables('--cacert $CERT', withFile), '--cacert /b/p.tmp/CERT');
  });
});

describe('getVariable', () => {
  it('returns the last occurrence', () => {
    assert.equal(getVariable(vars({ X: '1' }).concat(vars({ X: '2' })), 'X'), '2');
    assert.equal(getVariable([], 'X'), undefined);
  });
});

describe('buildJobVariables', () => {
  const job = makeJob({
    image: { name: 'debian:12' },
    variables: [
      { key: 'CI_JOB_ID', value: '77', public: true },
      { key: 'REF', value: 'dir=$CI_PROJECT_DIR cost=$$1' },
      { key: 'RAW', value: 'keep $CI_PROJECT_DIR $$', raw: true },
      { key: 'MYFILE', value: 'contents', file: true },
      { key: 'USES_FILE', value: 'path=$MYFILE' },
      { key: 'FROM_ENV', value: 'env said $RUNNER_SETTING' },
    ],
  });
  const list = buildJobVariables({
    job,
    runner: makeRunner({ environment: ['RUNNER_SETTING=on=yes', 'BROKEN'], version: '1.2.3' }),
    executorName: 'qemu',
    buildsDir: '/builds',
    projectDir: '/builds/acme/widget',
    disposable: true,
    concurrentId: 2,
  });
  const keys = list.map((variable) => variable.key);

  it('puts the runner variables around the payload ones in gitlab-runner order', () => {
    assert.deepEqual(keys, [
      'CI_JOB_IMAGE',
      'CI_RUNNER_SHORT_TOKEN',
      'RUNNER_SETTING',
      'CI_BUILDS_DIR',
      'CI_PROJECT_DIR',
      'CI_CONCURRENT_ID',
      'CI_CONCURRENT_PROJECT_ID',
      'CI_SERVER',
      'CI_JOB_STATUS',
      'CI_JOB_TIMEOUT',
      'CI_JOB_ID',
      'REF',
      'RAW',
      'MYFILE',
      'USES_FILE',
      'FROM_ENV',
      'CI_DISPOSABLE_ENVIRONMENT',
      'CI_RUNNER_VERSION',
      'CI_RUNNER_REVISION',
      'CI_RUNNER_EXECUTABLE_ARCH',
      'RUNNER_TEMP_PROJECT_DIR',
    ]);
    const value = (key: string) => getVariable(list, key);
    assert.equal(value('CI_JOB_IMAGE'), 'debian:12');
    assert.equal(value('CI_RUNNER_SHORT_TOKEN'), 'abcdefghi');
    assert.equal(value('RUNNER_SETTING'), 'on=yes');
    assert.equal(value('CI_CONCURRENT_ID'), '2');
    assert.equal(value('CI_JOB_TIMEOUT'), '3600');
    assert.equal(value('CI_RUNNER_VERSION'), '1.2.3');
    assert.match(value('CI_RUNNER_EXECUTABLE_ARCH') ?? '', /^linux\/(amd64|arm64)$/);
    assert.equal(value('RUNNER_TEMP_PROJECT_DIR'), '/builds/acme/widget.tmp');
  });

  it('expands values once, keeps raw ones, and expands file references to paths', () => {
    assert.equal(getVariable(list, 'REF'), 'dir=/builds/acme/widget cost=$1');
    assert.equal(getVariable(list, 'RAW'), 'keep $CI_PROJECT_DIR $$');
    assert.equal(getVariable(list, 'USES_FILE'), 'path=/builds/acme/widget.tmp/MYFILE');
    assert.equal(getVariable(list, 'MYFILE'), 'contents');
    assert.equal(getVariable(list, 'FROM_ENV'), 'env said on=yes');
  });

  it('marks a shared environment and adds TLS file variables when given', () => {
    const shared = buildJobVariables({
      job: makeJob({ runner_info: { timeout: 0 } }),
      runner: makeRunner(),
      executorName: 'shell',
      buildsDir: '/b',
      projectDir: '/b/p',
      disposable: false,
      tls: { caChain: 'CA', key: 'KEY' },
    });
    assert.equal(getVariable(shared, 'CI_SHARED_ENVIRONMENT'), 'true');
    assert.equal(getVariable(shared, 'CI_DISPOSABLE_ENVIRONMENT'), undefined);
    assert.equal(getVariable(shared, 'CI_JOB_TIMEOUT'), '7200');
    assert.deepEqual(
      shared.filter((variable) => variable.file).map((variable) => [variable.key, variable.public]),
      [
        ['CI_SERVER_TLS_CA_FILE', true],
        ['CI_SERVER_TLS_KEY_FILE', false],
      ],
    );
  });
});

describe('projectDirFor', () => {
  it('uses <builds>/<namespace>/<project> from the repo URL', () => {
    assert.equal(projectDirFor({ job: makeJob(), buildsDir: '/builds' }), '/builds/acme/widget');
    const nested = makeJob({}, { repo_url: 'https://gitlab-ci-token:x@h.example/g/sub/proj.git' });
    assert.equal(projectDirFor({ job: nested, buildsDir: '/builds/' }), '/builds/g/sub/proj');
  });

  it('falls back to project-<id> for unusable URLs', () => {
    assert.equal(
      projectDirFor({ job: makeJob({}, { repo_url: 'not a url' }), buildsDir: '/b' }),
      '/b/project-5',
    );
    assert.equal(
      projectDirFor({ job: makeJob({}, { repo_url: 'https://h/../../etc.git' }), buildsDir: '/b' }),
      '/b/etc',
    );
    assert.equal(
      projectDirFor({ job: makeJob({}, { repo_url: 'https://h/' }), buildsDir: '/b' }),
      '/b/project-5',
    );
  });

  it('appends -empty for GIT_STRATEGY=empty', () => {
    assert.equal(
      projectDirFor({ job: makeJob(), buildsDir: '/b', variables: vars({ GIT_STRATEGY: 'empty' }) }),
      '/b/acme/widget-empty',
    );
  });

  it('uses an expanded GIT_CLONE_PATH inside the builds dir', () => {
    const variables = vars({ GIT_CLONE_PATH: '$CI_BUILDS_DIR/custom/./dir/' });
    assert.equal(projectDirFor({ job: makeJob(), buildsDir: '/b', variables }), '/b/custom/dir');
  });

  it('refuses GIT_CLONE_PATH outside the builds dir or when custom build dirs are off', () => {
    assert.throws(
      () =>
        projectDirFor({ job: makeJob(), buildsDir: '/b', variables: vars({ GIT_CLONE_PATH: '/b/../etc' }) }),
      (error) => hasCode(error, 'GIT_CLONE_PATH_OUTSIDE_BUILDS_DIR'),
    );
    assert.throws(
      () => projectDirFor({ job: makeJob(), buildsDir: '/b', variables: vars({ GIT_CLONE_PATH: '/b' }) }),
      (error) => hasCode(error, 'GIT_CLONE_PATH_OUTSIDE_BUILDS_DIR'),
    );
    assert.throws(
      () =>
        projectDirFor({
          job: makeJob(),
          buildsDir: '/b',
          variables: vars({ GIT_CLONE_PATH: '/b/x' }),
          customBuildDir: false,
        }),
      (error) => hasCode(error, 'GIT_CLONE_PATH_NOT_ALLOWED'),
    );
  });
});

describe('shortRunnerToken', () => {
  it('strips known prefixes and keeps 9 characters', () => {
    assert.equal(shortRunnerToken('glrt-t1_AbCdEfGhIjKl'), 'AbCdEfGhI');
    assert.equal(shortRunnerToken('glrt-AbCdEfGhIjKl'), 'AbCdEfGhI');
    assert.equal(shortRunnerToken('glrtr-xyz123456789'), 'xyz123456');
    assert.equal(shortRunnerToken('GR1348941abcdefghijk'), 'abcdefghi');
    assert.equal(shortRunnerToken('plain'), 'plain');
  });
});
