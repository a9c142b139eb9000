import { join } from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseJobPayload } from '../../src/gitlab/parse-payload.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS } from '../../src/model/defaults.js';

// ../shared sits beside the repository (on developer machines and in CI alike).
const fixtures = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'fixtures');
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${fixtures}/${name}`, 'utf8')) as Record<string, unknown>;

describe('parseJobPayload', () => {
  it('parses the basic fixture as GitLab renders it', () => {
    const result = parseJobPayload(load('job-basic.json'));
    assert.ok(result.ok, result.ok ? '' : result.reason);
    const job = result.job;
    assert.equal(job.id, 4123);
    assert.equal(job.token, 'glcbt-64_xTqkHJ9vNwLr3sYpAeZ2');
    assert.equal(job.allow_git_fetch, true);
    assert.deepEqual(job.job_info, {
      id: 4123,
      name: 'unit-tests',
      stage: 'test',
      project_id: 42,
      project_name: 'widget',
      project_full_path: 'acme/widget',
    });
    assert.equal(job.git_info.depth, 20);
    assert.equal(job.git_info.protected, true);
    assert.equal(job.git_info.repo_object_format, 'sha1');
    assert.deepEqual(job.runner_info, { timeout: 3600 });
    assert.ok(job.variables.length > 50);
    assert.deepEqual(
      job.variables.find((variable) => variable.key === 'CI_JOB_TOKEN'),
      { key: 'CI_JOB_TOKEN', value: 'glcbt-64_xTqkHJ9vNwLr3sYpAeZ2', public: false, masked: true },
    );
    assert.deepEqual(job.steps, [
      {
        name: 'script',
        script: ['ruby --version', 'bundle install --jobs 4 --quiet', 'bundle exec rake test'],
        timeout: 3600,
        when: 'on_success',
        allow_failure: false,
      },
    ]);
    assert.deepEqual(job.image, { name: 'ruby:3.3' });
    assert.deepEqual(job.artifacts, [], 'artifacts: null is no artifacts');
    assert.deepEqual(job.credentials, [
      { type: 'registry', url: 'registry.gitlab.example.com', username: 'gitlab-ci-token', password: 'glcbt-64_xTqkHJ9vNwLr3sYpAeZ2' },
    ]);
    assert.equal(job.features.trace_sections, true);
    assert.ok(job.features.failure_reasons?.includes('runner_interrupted'));
  });

  it('fills the runner defaults for the minimal fixture', () => {
    const result = parseJobPayload(load('job-minimal.json'));
    assert.ok(result.ok, result.ok ? '' : result.reason);
    const job = result.job;
    assert.equal(job.runner_info.timeout, DEFAULT_JOB_TIMEOUT_SECONDS);
    assert.deepEqual(job.job_info, { id: 4200, name: '', stage: '', project_id: 0, project_name: '' });
    assert.deepEqual(
      [job.variables, job.hooks, job.artifacts, job.cache, job.dependencies],
      [[], [], [], [], []],
    );
    assert.deepEqual(job.features, {});
    assert.equal(job.image, undefined);
    assert.equal('repo_object_format' in job.git_info, false);
  });

  it('reads services as GitLab renders them: string form, hash form, and null keys', () => {
    const raw = load('job-minimal.json');
    raw.services = [
      { name: 'postgres:16', entrypoint: null, ports: [], executor_opts: {}, pull_policy: null, alias: null, command: null, variables: null },
      {
        name: 'registry.example.com:5000/tools/httpd:1',
        entrypoint: ['/bin/sh', '-c'],
        ports: [{ number: 80, protocol: 'http', name: 'default_port' }],
        executor_opts: { docker: { user: 1000 } },
        pull_policy: ['if-not-present'],
        alias: 'web, www  api',
        command: ['httpd', '-f'],
        variables: [{ key: 'GREETING', value: 'hi' }],
      },
    ];
    const result = parseJobPayload(raw);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.deepEqual(result.job.services, [
      { name: 'postgres:16', variables: [] },
      {
        name: 'registry.example.com:5000/tools/httpd:1',
        alias: 'web, www  api',
        variables: [{ key: 'GREETING', value: 'hi' }],
        entrypoint: ['/bin/sh', '-c'],
        command: ['httpd', '-f'],
        pull_policy: ['if-not-present'],
        docker: { user: '1000' },
      },
    ]);
  });

  it("reads image:docker: and services:docker: (executor_opts.docker), a user as a string or an integer", () => {
    const raw = load('job-minimal.json');
    raw.image = { name: 'node:20', entrypoint: null, executor_opts: { docker: { user: 'node:staff', platform: 'linux/amd64' } } };
    raw.services = [{ name: 'redis:7', executor_opts: { docker: { platform: 'amd64', user: null } } }];
    const result = parseJobPayload(raw);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.deepEqual(result.job.image, { name: 'node:20', docker: { user: 'node:staff', platform: 'linux/amd64' } });
    assert.deepEqual(result.job.services?.[0]?.docker, { platform: 'amd64' });
    raw.services = [{ name: 'redis:7', executor_opts: { docker: { user: true } } }];
    const bad = parseJobPayload(raw);
    assert.equal(bad.ok ? '' : bad.reason, 'services[0].executor_opts.docker.user: expected a string, got boolean');
  });

  it('reads services: null as no services, and names a bad service entry by its path', () => {
    const raw = load('job-minimal.json');
    raw.services = null;
    const empty = parseJobPayload(raw);
    assert.ok(empty.ok);
    assert.deepEqual(empty.job.services, []);
    raw.services = [{ name: 'redis', variables: [{ key: 7 }] }];
    const bad = parseJobPayload(raw);
    assert.equal(bad.ok, false);
    assert.equal(bad.ok ? '' : bad.reason, 'services[0].variables[0].key: expected a string, got number');
    raw.services = [{ alias: 'x' }];
    const nameless = parseJobPayload(raw);
    assert.equal(nameless.ok ? '' : nameless.reason, 'services[0].name: missing');
  });

  it('ignores unknown keys and reads null as absent everywhere', () => {
    const raw = load('job-minimal.json');
    Object.assign(raw, {
      future_key: { anything: [1, 2] },
      job_info: null,
      runner_info: { timeout: null, runner_session_url: null, uuid: 'u' },
      variables: [{ key: 'CI_JOB_STARTED_AT', value: null, public: true, masked: null }],
      image: null,
      artifacts: [
        {
          name: null,
          paths: ['dist/'],
          when: 'always',
          expire_in: null,
          artifact_type: 'archive',
          artifact_format: 'zip',
        },
      ],
      cache: [
        {
          key: 'k',
          paths: ['vendor'],
          policy: 'pull',
          when: 'on_success',
          untracked: false,
          fallback_keys: null,
        },
      ],
      dependencies: [
        {
          id: 11,
          name: 'build',
          token: 'dep-token',
          artifacts_file: { filename: 'artifacts.zip', size: 12 },
        },
        { id: 12, name: 'lint' },
      ],
      features: { trace_sections: null, failure_reasons: null, tracing: {} },
      hooks: [{ name: 'pre_get_sources_script', script: ['echo hi'] }],
    });
    const result = parseJobPayload(raw);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.deepEqual(result.job.variables, [{ key: 'CI_JOB_STARTED_AT', value: '', public: true }]);
    assert.deepEqual(result.job.artifacts, [
      { paths: ['dist/'], when: 'always', artifact_type: 'archive', artifact_format: 'zip' },
    ]);
    assert.deepEqual(result.job.cache, [
      {
        key: 'k',
        untracked: false,
        paths: ['vendor'],
        policy: 'pull',
        when: 'on_success',
        fallback_keys: [],
      },
    ]);
    assert.deepEqual(result.job.dependencies, [
      { id: 11, name: 'build', token: 'dep-token', artifacts_file: { filename: 'artifacts.zip', size: 12 } },
      { id: 12, name: 'lint', token: 'glcbt-64_a9Fq2LmZ7xWcR3tY8kPb' },
    ]);
    assert.deepEqual(result.job.features, {});
    assert.equal(result.job.runner_info.timeout, DEFAULT_JOB_TIMEOUT_SECONDS);
    assert.deepEqual(result.job.hooks, [{ name: 'pre_get_sources_script', script: ['echo hi'] }]);
  });

  it('keeps duplicate variables in order so the last one wins later', () => {
    const raw = {
      ...load('job-minimal.json'),
      variables: [
        { key: 'A', value: '1' },
        { key: 'A', value: '2', raw: true, file: true },
      ],
    };
    const result = parseJobPayload(raw);
    assert.ok(result.ok);
    assert.deepEqual(result.job.variables, [
      { key: 'A', value: '1' },
      { key: 'A', value: '2', file: true, raw: true },
    ]);
  });

  const broken: Array<[string, (raw: Record<string, unknown>) => void, RegExp, boolean]> = [
    ['no id', (raw) => delete raw.id, /^id:/, false],
    ['an id that is not an integer', (raw) => (raw.id = '4200'), /^id:/, false],
    ['no token', (raw) => delete raw.token, /^token:/, false],
    ['no git_info', (raw) => delete raw.git_info, /^git_info: missing/, true],
    [
      'git_info without sha',
      (raw) => delete (raw.git_info as Record<string, unknown>).sha,
      /^git_info\.sha: missing/,
      true,
    ],
    [
      'a string depth',
      (raw) => ((raw.git_info as Record<string, unknown>).depth = '20'),
      /^git_info\.depth: expected an integer/,
      true,
    ],
    ['no steps', (raw) => delete raw.steps, /^steps: missing/, true],
    [
      'a CI Steps `run` job',
      (raw) => {
        delete raw.steps;
        raw.run = '[]';
      },
      /^run: /,
      true,
    ],
    [
      'a step script that is a string',
      (raw) => ((raw.steps as Array<Record<string, unknown>>)[0]!.script = 'echo'),
      /^steps\[0\]\.script: expected an array/,
      true,
    ],
    [
      'a variable without key',
      (raw) => (raw.variables = [{ value: 'x' }]),
      /^variables\[0\]\.key: missing/,
      true,
    ],
    [
      'an unknown cache policy',
      (raw) => (raw.cache = [{ key: 'k', policy: 'sometimes' }]),
      /^cache\[0\]\.policy: unknown value/,
      true,
    ],
    ['a non-object payload', () => undefined, /not a JSON object/, false],
  ];
  for (const [title, breakIt, reason, idUsable] of broken) {
    it(`fails with a reason for ${title}${idUsable ? ', keeping id and token so the job can be failed' : ''}`, () => {
      const raw = load('job-minimal.json');
      breakIt(raw);
      const result = parseJobPayload(title === 'a non-object payload' ? ['not', 'an', 'object'] : raw);
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.match(result.reason, reason);
      if (idUsable) {
        assert.equal(result.id, 4200);
        assert.equal(result.token, 'glcbt-64_a9Fq2LmZ7xWcR3tY8kPb');
      }
      assert.doesNotMatch(result.reason, /glcbt-/, 'the reason never contains the job token');
    });
  }
});
