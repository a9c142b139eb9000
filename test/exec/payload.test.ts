// The payload tart exec builds must look like the one GitLab sends (job-basic.json, a copy of
// the reference fixture): same field names and variable names, minus the server-only ones listed here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PlannedJob } from '../../src/ci-yaml/types.js';
import { buildJobPayload } from '../../src/exec/payload.js';
import type { PipelineFacts } from '../../src/exec/predefined-variables.js';

const reference = JSON.parse(
  readFileSync(join(import.meta.dirname, 'job-basic.reference.json'), 'utf8'),
) as Record<string, unknown> & {
  job_info: object;
  git_info: object;
  runner_info: object;
  variables: Array<{ key: string }>;
  steps: Array<Record<string, unknown>>;
};

// Only a GitLab server has these: scheduling metrics, instance/user ids, a registry, a dependency proxy, Pages.
const SERVER_ONLY_JOB_INFO = [
  'namespace_id',
  'root_namespace_id',
  'organization_id',
  'instance_id',
  'instance_uuid',
  'user_id',
  'scoped_user_id',
  'time_in_queue_seconds',
  'project_jobs_running_on_instance_runners_count',
  'queue_size',
  'queue_depth',
];
const SERVER_ONLY_VARIABLES = [
  'CI_REGISTRY_USER',
  'CI_REGISTRY_PASSWORD',
  'CI_REGISTRY',
  'CI_REGISTRY_IMAGE',
  'CI_DEPENDENCY_PROXY_USER',
  'CI_DEPENDENCY_PROXY_PASSWORD',
  'CI_DEPENDENCY_PROXY_SERVER',
  'CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX',
  'CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX',
  'CI_PAGES_DOMAIN',
  'CI_SERVER_SHELL_SSH_HOST',
  'CI_SERVER_SHELL_SSH_PORT',
  'CI_PROJECT_NAMESPACE_ID',
  'CI_PROJECT_REPOSITORY_LANGUAGES',
  'CI_PROJECT_CLASSIFICATION_LABEL',
];
// Keys tart exec adds that this particular fixture lacks (GitLab sends them too, for other jobs).
const EXTRA_JOB_INFO = ['pipeline_id'];
// GitLab's Project#ci_template_variables adds it (the bundled templates name their images with it);
// this fixture was captured without it.
const EXTRA_VARIABLES = ['CI_TEMPLATE_REGISTRY_HOST'];

const job: PlannedJob = {
  name: 'unit-tests',
  definedAs: 'unit-tests',
  stage: 'test',
  when: 'on_success',
  allowFailure: { allowed: false, exitCodes: [] },
  variables: [{ key: 'RUBY_VERSION', value: '3.3' }],
  beforeScript: ['ruby --version'],
  script: ['bundle install --jobs 4 --quiet', 'bundle exec rake test'],
  afterScript: [],
  image: { name: 'ruby:3.3' },
  services: [],
  cache: [],
  retry: { max: 0, when: ['always'] },
  hooks: {},
  tags: [],
};

const pipeline: PipelineFacts = {
  pipelineId: 9876,
  pipelineIid: 123,
  createdAt: '2025-06-03T10:15:20Z',
  sha: 'a3f5c1e9b7d2486f0e1c3b5a7d9f2e4c6b8a0d1e',
  server: { url: 'http://127.0.0.1:4000', host: '127.0.0.1', port: 4000 },
  projectId: 42,
  configPath: '.gitlab-ci.yml',
  version: '0.1.0',
  repo: {
    root: '/src/widget',
    objectsDir: '/src/widget/.git/objects',
    objectFormat: 'sha1',
    sha: 'a3f5c1e9b7d2486f0e1c3b5a7d9f2e4c6b8a0d1e',
    beforeSha: '5e8d2b1a9c7f3e6d4b2a0c8e6f4d2b0a9c7e5f3d',
    ref: 'main',
    refType: 'branch',
    commit: {
      title: 'Add widget caching',
      message: 'Add widget caching\n\nCloses #12\n',
      description: 'Closes #12\n',
      author: 'Jane Doe <jane@example.com>',
      authorName: 'Jane Doe',
      authorEmail: 'jane@example.com',
      timestamp: '2025-06-03T12:14:58+02:00',
    },
    defaultBranch: 'main',
    projectPath: 'acme/widget',
    dirty: false,
  },
};

const payload = buildJobPayload({
  job,
  pipeline,
  jobFacts: {
    jobId: 4123,
    startedAt: '2025-06-03T10:15:42Z',
    token: 'glcbt-tartexec_0123456789abcdef',
    repoUrl: 'http://gitlab-ci-token:glcbt-tartexec_0123456789abcdef@127.0.0.1:4000/project.git',
    executorName: 'shell',
  },
  cliVariables: [{ key: 'GIT_DEPTH', value: '20' }],
  caches: [],
  dependencies: [],
}) as unknown as Record<string, Record<string, unknown>> & {
  git_info: Record<string, unknown>;
  variables: Array<{ key: string; value: string; masked: boolean }>;
  steps: Array<Record<string, unknown>>;
};

const keys = (value: unknown) => Object.keys(value as object).sort();

describe('the job payload tart exec builds', () => {
  it('has the same top-level fields as GitLab sends', () => {
    assert.deepEqual(keys(payload), keys(reference));
  });

  it('has the same job_info, git_info and runner_info fields, minus server-only ones', () => {
    assert.deepEqual(
      keys(payload.job_info),
      [
        ...keys(reference.job_info).filter((key) => !SERVER_ONLY_JOB_INFO.includes(key)),
        ...EXTRA_JOB_INFO,
      ].sort(),
    );
    assert.deepEqual(keys(payload.git_info), keys(reference.git_info));
    assert.deepEqual(
      keys(payload.runner_info),
      keys(reference.runner_info).filter((key) => key !== 'runner_session_url'),
    );
  });

  it('carries the same variable names, minus server-only ones', () => {
    const expected = reference.variables
      .map((variable) => variable.key)
      .filter((key) => !SERVER_ONLY_VARIABLES.includes(key))
      .concat(EXTRA_VARIABLES);
    const actual = payload.variables.map((variable) => variable.key);
    assert.deepEqual([...actual].sort(), [...expected].sort());
  });

  it('builds the script step from before_script + script, and masks the job token', () => {
    assert.deepEqual(payload.steps, [
      {
        name: 'script',
        script: ['ruby --version', 'bundle install --jobs 4 --quiet', 'bundle exec rake test'],
        timeout: 3600,
        when: 'on_success',
        allow_failure: false,
      },
    ]);
    assert.equal(payload.variables.find((variable) => variable.key === 'CI_JOB_TOKEN')?.masked, true);
    assert.deepEqual(payload.git_info.refspecs, [
      '+refs/pipelines/9876:refs/pipelines/9876',
      '+refs/heads/main:refs/remotes/origin/main',
    ]);
  });

  it('passes image: and services: on as GitLab does, with pull_policy and docker: (executor_opts)', () => {
    const withImage = buildJobPayload({
      job: {
        ...job,
        image: { name: 'docker:24', pullPolicy: ['if-not-present'], docker: { user: '1000' } },
        services: [{ name: 'docker:24-dind', alias: 'docker', docker: { platform: 'linux/amd64' } }],
      },
      pipeline,
      jobFacts: {
        jobId: 1,
        startedAt: '2025-06-03T10:15:42Z',
        token: 'glcbt-x',
        repoUrl: 'http://127.0.0.1:4000/project.git',
        executorName: 'qemu',
      },
      cliVariables: [],
      caches: [],
      dependencies: [],
    });
    assert.deepEqual(withImage.image, {
      name: 'docker:24',
      pull_policy: ['if-not-present'],
      docker: { user: '1000' },
    });
    assert.deepEqual(withImage.services, [
      { name: 'docker:24-dind', alias: 'docker', variables: [], docker: { platform: 'linux/amd64' } },
    ]);
  });
});
