// Runs real jobs for the engine tests: a file:// git repo, the shell executor in a temp builds
// dir, a local artifact transport, and a trace sink that collects every byte.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ShellExecutor } from '../../../src/executor/shell/index.js';
import type { Executor } from '../../../src/executor/types.js';
import type {
  JobArtifact,
  JobCache,
  JobDependency,
  JobPayload,
  JobVariable,
} from '../../../src/model/payload.js';
import { runJob, type EngineTuning } from '../../../src/job/run-job.js';
import type { JobOutcome, RunnerSettings } from '../../../src/job/types.js';
import { createRepo, type TestRepo } from '../../support/git-repo.js';
import { createLocalArtifacts, type LocalArtifacts } from '../../support/local-artifacts.js';
import { traceAsShown } from '../../support/trace-view.js';

export const JOB_TOKEN = 'glcbt-64_s3cr3tJobTokenValue';

export interface JobSpec {
  script?: string[];
  afterScript?: string[];
  variables?: JobVariable[];
  /** runner_info.timeout in seconds. */
  timeout?: number;
  artifacts?: JobArtifact[];
  cache?: JobCache[];
  dependencies?: JobDependency[];
  traceSections?: boolean;
  /** Override the commit to check out (a missing sha makes get_sources fail). */
  sha?: string;
}

export interface JobRunResult {
  outcome: JobOutcome;
  /** The log as GitLab's job page shows it (FF_TIMESTAMPS headers hidden). */
  trace: string;
  /** Exactly the bytes the engine wrote. */
  rawTrace: Buffer;
  elapsedMs: number;
}

export interface RunOptions {
  cancel?: AbortSignal;
  executor?: Executor;
  tuning?: Partial<EngineTuning>;
  /** Called with the trace so far after every chunk (to react to output mid-job). */
  onTrace?: (traceSoFar: string) => void;
}

export interface JobHarness {
  root: string;
  buildsDir: string;
  repo: TestRepo;
  artifacts: LocalArtifacts;
  runner: RunnerSettings;
  job(spec?: JobSpec): JobPayload;
  run(job: JobPayload, options?: RunOptions): Promise<JobRunResult>;
  cleanup(): Promise<void>;
}

/** Short waits so retries and cancels finish quickly in tests. */
export const FAST_TUNING: Partial<EngineTuning> = { prepareRetryDelayMs: 10, retryDelayMs: () => 10 };

export async function createJobHarness(): Promise<JobHarness> {
  const root = await mkdtemp(join(tmpdir(), 'tart-job-'));
  const buildsDir = join(root, 'builds');
  const repo = await createRepo({ files: { 'README.md': '# sample\n', 'src/app.txt': 'hello\n' } });
  const artifacts = await createLocalArtifacts();
  const runner: RunnerSettings = {
    name: 'test-runner',
    token: 'glrt-t1_abcdefghijklmnop',
    environment: [],
    cacheDir: join(root, 'cache'),
    version: '0.1.0',
    revision: 'abc12345',
  };
  return {
    root,
    buildsDir,
    repo,
    artifacts,
    runner,
    job: (spec = {}) => jobPayload(repo, spec),
    async run(job, options = {}) {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          options.onTrace?.(traceAsShown(Buffer.concat(chunks)));
          callback();
        },
      });
      const started = Date.now();
      const outcome = await runJob(
        {
          job,
          executor: options.executor ?? new ShellExecutor({ buildsDir }),
          runner,
          trace: sink,
          artifacts,
          cancel: options.cancel ?? new AbortController().signal,
        },
        { ...FAST_TUNING, ...options.tuning },
      );
      const rawTrace = Buffer.concat(chunks);
      return { outcome, trace: traceAsShown(rawTrace), rawTrace, elapsedMs: Date.now() - started };
    },
    async cleanup() {
      await artifacts.close();
      await repo.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function jobPayload(repo: TestRepo, spec: JobSpec): JobPayload {
  const id = 1001;
  const repoUrl = `file://${repo.bareDir}`;
  const steps = [
    {
      name: 'script',
      script: spec.script ?? ['echo hello'],
      timeout: 3600,
      when: 'on_success',
      allow_failure: false,
    },
  ];
  if (spec.afterScript !== undefined)
    steps.push({
      name: 'after_script',
      script: spec.afterScript,
      timeout: 3600,
      when: 'always',
      allow_failure: true,
    });
  return {
    id,
    token: JOB_TOKEN,
    allow_git_fetch: true,
    job_info: {
      id,
      name: 'unit-tests',
      stage: 'test',
      project_id: 42,
      project_name: 'widget',
      project_full_path: 'acme/widget',
    },
    git_info: {
      repo_url: repoUrl,
      ref: repo.branch,
      sha: spec.sha ?? repo.head(),
      before_sha: '0000000000000000000000000000000000000000',
      ref_type: 'branch',
      refspecs: [`+refs/heads/${repo.branch}:refs/remotes/origin/${repo.branch}`],
      depth: 20,
    },
    runner_info: { timeout: spec.timeout ?? 3600 },
    variables: [
      { key: 'CI_JOB_ID', value: String(id), public: true, masked: false },
      { key: 'CI_JOB_TOKEN', value: JOB_TOKEN, public: false, masked: true },
      { key: 'CI_REPOSITORY_URL', value: repoUrl, public: false, masked: false },
      { key: 'CI_PROJECT_PATH', value: 'acme/widget', public: true, masked: false },
      { key: 'CI_COMMIT_SHA', value: spec.sha ?? repo.head(), public: true, masked: false },
      ...(spec.variables ?? []),
    ],
    steps,
    hooks: [],
    artifacts: spec.artifacts ?? [],
    cache: spec.cache ?? [],
    dependencies: spec.dependencies ?? [],
    features: {
      trace_sections: spec.traceSections ?? true,
      failure_reasons: [
        'script_failure',
        'runner_system_failure',
        'job_execution_timeout',
        'unknown_failure',
      ],
    },
  };
}
