// Every GitLab template shipped in templates/gitlab/ loads and plans the way `tart exec --list`
// plans it (real git repository, tart exec's predefined variables), or fails with its stated error.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { CiConfigError } from '../../src/ci-yaml/errors.js';
import type { PipelinePlan, PlannedJob } from '../../src/ci-yaml/types.js';
import { planLocalPipeline } from '../../src/exec/inspect.js';
import { buildJobPayload } from '../../src/exec/payload.js';
import type { PipelineFacts } from '../../src/exec/predefined-variables.js';
import { buildJobVariables, expandVariables } from '../../src/job/variables.js';
import { makeRunner } from '../shell/helpers.js';
import { createRepository } from './git-helpers.js';

const TEMPLATES = join(import.meta.dirname, '..', '..', 'templates', 'gitlab');

// What GitLab Ultimate puts in GITLAB_FEATURES for the scanners; tart exec leaves it empty.
const SECURITY_FEATURES = 'GITLAB_FEATURES=sast dependency_scanning container_scanning dast license_scanning';

interface Case {
  /** Project files beside the .gitlab-ci.yml (default: one Python file). */
  files?: Record<string, string>;
  /** Lines of .gitlab-ci.yml before the include. */
  before?: string;
  variables?: string[];
  /** Planned job names in plan order. */
  jobs?: string[];
  error?: { code: string; message: string };
}

const SHIPPED: Record<string, Case> = {
  'Android.gitlab-ci.yml': { jobs: ['lintDebug', 'assembleDebug', 'debugTests'] },
  'Bash.gitlab-ci.yml': { jobs: ['build1', 'test1', 'test2', 'deploy1'] },
  'C++.gitlab-ci.yml': { jobs: ['build', 'test'] },
  'Code-Quality.gitlab-ci.yml': { jobs: ['code_quality'] },
  'Django.gitlab-ci.yml': { jobs: ['migrations', 'django-tests', 'deploy'] },
  // docker-build-master is `only: [master]`; the test repository is on main.
  'Docker.gitlab-ci.yml': { jobs: ['docker-build'] },
  'Elixir.gitlab-ci.yml': { jobs: ['mix'] },
  'Go.gitlab-ci.yml': { jobs: ['format', 'compile'] },
  'Gradle.gitlab-ci.yml': { jobs: ['build', 'test'] },
  'Jobs/Code-Quality.gitlab-ci.yml': { jobs: ['code_quality'] },
  'Jobs/Container-Scanning.gitlab-ci.yml': { jobs: ['container_scanning'] },
  // Its analyzers need `dependency_scanning` in GITLAB_FEATURES (see the focused tests below).
  'Jobs/Dependency-Scanning.gitlab-ci.yml': { files: { 'package-lock.json': '{}\n' }, jobs: [] },
  'Jobs/SAST-IaC.gitlab-ci.yml': { jobs: ['kics-iac-sast'] },
  'Jobs/SAST.gitlab-ci.yml': { jobs: ['semgrep-sast'] },
  'Jobs/Secret-Detection.gitlab-ci.yml': { jobs: ['secret_detection'] },
  'Julia.gitlab-ci.yml': { jobs: ['test:0.7', 'test:1.0', 'pages'] },
  'Laravel.gitlab-ci.yml': { jobs: ['test'] },
  // verify:jdk8 is excluded on the default branch (`except: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`).
  'Maven.gitlab-ci.yml': { jobs: ['deploy:jdk8'] },
  'Nodejs.gitlab-ci.yml': { jobs: ['test_async', 'test_db', 'deploy'] },
  'PHP.gitlab-ci.yml': { jobs: ['test'] },
  'Python.gitlab-ci.yml': { jobs: ['test', 'run', 'pages'] },
  // Its deploy job still uses `type:`, GitLab's deprecated name for `stage:`.
  'Ruby.gitlab-ci.yml': { jobs: ['rubocop', 'rspec', 'rails', 'deploy'] },
  'Rust.gitlab-ci.yml': { jobs: ['test:cargo'] },
  'Security/Container-Scanning.gitlab-ci.yml': {
    variables: [SECURITY_FEATURES],
    jobs: ['container_scanning'],
  },
  'Security/DAST.gitlab-ci.yml': {
    variables: [SECURITY_FEATURES],
    error: { code: 'CI_UNKNOWN_STAGE', message: 'stage "dast" is not defined in stages' },
  },
  'Security/Dependency-Scanning.gitlab-ci.yml': {
    files: { 'package.json': '{}\n' },
    variables: [SECURITY_FEATURES],
    jobs: ['retire-js-dependency_scanning'],
  },
  'Security/License-Scanning.gitlab-ci.yml': { variables: [SECURITY_FEATURES], jobs: ['license_scanning'] },
  'Security/SAST-IaC.gitlab-ci.yml': { jobs: ['kics-iac-sast'] },
  'Security/SAST.gitlab-ci.yml': { jobs: ['semgrep-sast'] },
  'Security/Secret-Detection.gitlab-ci.yml': { jobs: ['secret_detection'] },
  'Swift.gitlab-ci.yml': { jobs: ['build_project', 'archive_project'] },
  'Terraform.gitlab-ci.yml': { jobs: ['init', 'validate', 'build', 'deploy'] },
  // Only hidden jobs, for a project's own jobs to extend (see the focused test below).
  'Terraform/Base.gitlab-ci.yml': {
    error: { code: 'CI_NO_JOBS', message: 'the configuration defines no jobs' },
  },
};

async function plan(testCase: Case & { ci: string }): Promise<PipelinePlan> {
  const files = testCase.files ?? { 'app.py': 'print("hi")\n' };
  const repo = createRepository({ ...files, '.gitlab-ci.yml': testCase.ci });
  try {
    return await planLocalPipeline({
      cwd: repo,
      file: '.gitlab-ci.yml',
      dirty: false,
      variables: (testCase.variables ?? []).map((pair) => {
        const [key = '', ...value] = pair.split('=');
        return { key, value: value.join('=') };
      }),
      version: '18.2.1',
    });
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

const PIPELINE: PipelineFacts = {
  pipelineId: 1,
  pipelineIid: 1,
  createdAt: '2026-12-07T00:00:00Z',
  sha: 'a'.repeat(40),
  server: { url: 'http://127.0.0.1:4000', host: '127.0.0.1', port: 4000 },
  projectId: 1,
  configPath: '.gitlab-ci.yml',
  version: '18.2.1',
  repo: {
    root: '/src/app',
    objectsDir: '/src/app/.git/objects',
    objectFormat: 'sha1',
    sha: 'a'.repeat(40),
    beforeSha: '0'.repeat(40),
    ref: 'main',
    refType: 'branch',
    commit: {
      title: 't',
      message: 't\n',
      description: '',
      author: 'Jane Doe <jane@example.com>',
      authorName: 'Jane Doe',
      authorEmail: 'jane@example.com',
      timestamp: '2026-12-07T00:00:00Z',
    },
    defaultBranch: 'main',
    projectPath: 'local/app',
    dirty: false,
  },
};

/** The image a job would pull: its payload (as tart exec builds it), the runner's variables, then the name. */
function resolvedImage(job: PlannedJob): string {
  const payload = buildJobPayload({
    job,
    pipeline: PIPELINE,
    jobFacts: {
      jobId: 1,
      startedAt: '2026-12-07T00:00:00Z',
      token: 't',
      repoUrl: 'http://x/p.git',
      executorName: 'shell',
    },
    cliVariables: [],
    caches: [],
    dependencies: [],
  });
  const variables = buildJobVariables({
    job: payload,
    runner: makeRunner(),
    executorName: 'shell',
    buildsDir: '/builds',
    projectDir: '/builds/local/app',
    disposable: true,
  });
  return expandVariables(payload.image?.name ?? '', variables);
}

function including(name: string, before = ''): string {
  return `${before}include:\n  - template: ${name}\n`;
}

async function planError(testCase: Case & { ci: string }): Promise<CiConfigError> {
  const error = await plan(testCase).then(
    () => assert.fail('planning succeeded but an error was expected'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof CiConfigError, `expected a CiConfigError, got ${String(error)}`);
  return error;
}

function shippedTemplates(directory = TEMPLATES): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? shippedTemplates(join(directory, entry.name))
        : entry.name.endsWith('.gitlab-ci.yml')
          ? [relative(TEMPLATES, join(directory, entry.name)).split(sep).join('/')]
          : [],
    )
    .sort();
}

describe('the GitLab templates shipped with tart exec', () => {
  it('are all in this table', () => {
    assert.deepEqual(shippedTemplates(), Object.keys(SHIPPED).sort());
  });

  for (const [name, testCase] of Object.entries(SHIPPED)) {
    it(`${name} ${testCase.error ? `fails with ${testCase.error.code}` : 'loads and plans'}`, async () => {
      const ci = including(name, testCase.before);
      if (testCase.error) {
        const error = await planError({ ...testCase, ci });
        assert.equal(error.code, testCase.error.code, error.message);
        assert.ok(error.message.includes(testCase.error.message), error.message);
        return;
      }
      const planned = await plan({ ...testCase, ci });
      assert.deepEqual(
        planned.jobs.map((job) => job.name),
        testCase.jobs,
      );
      assert.deepEqual(planned.warnings ?? [], [], 'no schema warnings');
      for (const job of planned.jobs)
        assert.doesNotMatch(resolvedImage(job), /^\/|\$/, `${job.name}: its image name resolves`);
    });
  }
});

describe('SAST as GitLab plans it locally', () => {
  const sast = including('Security/SAST.gitlab-ci.yml');

  it('resolves the Jobs/SAST include and names the analyzer image from the template registry', async () => {
    const planned = await plan({ ci: sast, files: { 'index.js': 'console.log(1)\n' } });
    assert.deepEqual(planned.files, [
      '.gitlab-ci.yml',
      'template:Security/SAST.gitlab-ci.yml',
      'template:Jobs/SAST.gitlab-ci.yml',
    ]);
    const semgrep = planned.jobs.find((job) => job.name === 'semgrep-sast');
    assert.equal(semgrep && resolvedImage(semgrep), 'registry.gitlab.com/security-products/semgrep:5');
    assert.equal(semgrep?.stage, 'test');
    assert.deepEqual(semgrep?.script, ['/analyzer run']);
    assert.equal(semgrep?.allowFailure.allowed, true);
  });

  it('plans no analyzer for a project with only a package.json (nodejs-scan was removed in 17.0)', async () => {
    const planned = await plan({
      ci: `${sast}other:\n  script: [echo]\n`,
      files: { 'package.json': '{}\n' },
    });
    assert.deepEqual(
      planned.jobs.map((job) => job.name),
      ['other'],
    );
  });

  it('plans the analyzers whose files exist: semgrep for JavaScript, sobelow for mix.exs', async () => {
    const planned = await plan({
      ci: sast,
      files: { 'src/app.js': 'x\n', 'mix.exs': 'defmodule X do end\n' },
    });
    assert.deepEqual(
      planned.jobs.map((job) => job.name),
      ['semgrep-sast', 'sobelow-sast'],
    );
  });

  it('plans nothing with SAST_DISABLED=true, and skips an analyzer named in SAST_EXCLUDED_ANALYZERS', async () => {
    const files = { 'src/app.js': 'x\n', 'mix.exs': 'defmodule X do end\n' };
    const disabled = await plan({
      ci: `${sast}other:\n  script: [echo]\n`,
      files,
      variables: ['SAST_DISABLED=true'],
    });
    assert.deepEqual(
      disabled.jobs.map((job) => job.name),
      ['other'],
    );
    const excluded = await plan({ ci: sast, files, variables: ['SAST_EXCLUDED_ANALYZERS=semgrep'] });
    assert.deepEqual(
      excluded.jobs.map((job) => job.name),
      ['sobelow-sast'],
    );
  });
});

describe('other shipped templates with rules', () => {
  it('Jobs/Dependency-Scanning plans the gemnasium analyzer that matches the lock files, with the feature on', async () => {
    const planned = await plan({
      ci: including('Jobs/Dependency-Scanning.gitlab-ci.yml'),
      files: { 'web/package-lock.json': '{}\n', 'pom.xml': '<project/>\n' },
      variables: ['GITLAB_FEATURES=dependency_scanning'],
    });
    assert.deepEqual(
      planned.jobs.map((job) => job.name),
      ['gemnasium-dependency_scanning', 'gemnasium-maven-dependency_scanning'],
    );
    assert.equal(
      planned.jobs[0] && resolvedImage(planned.jobs[0]),
      'registry.gitlab.com/security-products/gemnasium:5',
    );
  });

  it('Jobs/Container-Scanning takes the -fips image from its rule variables in FIPS mode (RE2 \\z)', async () => {
    const ci = including('Jobs/Container-Scanning.gitlab-ci.yml');
    const [plain] = (await plan({ ci })).jobs;
    assert.equal(plain && resolvedImage(plain), 'registry.gitlab.com/security-products/container-scanning:7');
    const [fips] = (await plan({ ci, variables: ['CI_GITLAB_FIPS_MODE=true'] })).jobs;
    assert.equal(
      fips && resolvedImage(fips),
      'registry.gitlab.com/security-products/container-scanning:7-fips',
    );
  });

  it('Security/DAST plans its dast job once the project declares the dast stage', async () => {
    const planned = await plan({
      ci: including('Security/DAST.gitlab-ci.yml', 'stages: [build, test, deploy, dast]\n'),
      variables: [SECURITY_FEATURES],
    });
    assert.deepEqual(
      planned.jobs.map((job) => [job.name, job.stage]),
      [['dast', 'dast']],
    );
  });

  it('Security/DAST without a dast stage is an error even when its rules would skip the job, as on GitLab', async () => {
    const error = await planError({ ci: including('Security/DAST.gitlab-ci.yml') });
    assert.equal(error.code, 'CI_UNKNOWN_STAGE');
    assert.equal(error.job, 'dast');
    assert.equal(error.location?.file, 'template:Security/DAST.gitlab-ci.yml');
  });

  it('Terraform/Base gives a project hidden jobs to extend', async () => {
    const planned = await plan({
      ci: including(
        'Terraform/Base.gitlab-ci.yml',
        'stages: [init, validate, build, deploy, cleanup]\nplan:\n  extends: .build\n',
      ),
    });
    assert.deepEqual(
      planned.jobs.map((job) => [job.name, job.stage]),
      [['plan', 'build']],
    );
    assert.deepEqual(planned.jobs[0]?.script, [
      'cd ${TF_ROOT}',
      'gitlab-terraform plan',
      'gitlab-terraform plan-json',
    ]);
  });
});

describe('templates tart exec does not run', () => {
  it('a template that is not shipped gives the existing clear error', async () => {
    const error = await planError({ ci: including('Not-A-Template.gitlab-ci.yml') });
    assert.equal(error.code, 'CI_INCLUDE_NOT_FOUND');
    assert.equal(
      error.message,
      '.gitlab-ci.yml:2: include:template Not-A-Template.gitlab-ci.yml is not one of the GitLab templates shipped with tart exec',
    );
  });

  for (const [name, reason] of [
    ['Auto-DevOps.gitlab-ci.yml', 'Auto DevOps deploys to a Kubernetes cluster that GitLab manages'],
    ['Security/DAST-On-Demand-Scan.gitlab-ci.yml', 'GitLab starts on-demand DAST scans itself'],
    ['Security/Cluster-Image-Scanning.gitlab-ci.yml', 'Kubernetes cluster connected to GitLab'],
  ] as const)
    it(`${name} is refused with its reason`, async () => {
      const error = await planError({ ci: including(name) });
      assert.equal(error.code, 'CI_INCLUDE_UNSUPPORTED');
      assert.ok(error.message.includes(`include:template ${name} cannot run in tart exec: `), error.message);
      assert.ok(error.message.includes(reason), error.message);
    });
});
