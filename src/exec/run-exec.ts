// `tart exec`: plan the local .gitlab-ci.yml, serve the repository to jobs, and run the
// pipeline through the same job engine and executors as `tart run`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { CiConfigError } from '../ci-yaml/errors.js';
import { planPipeline } from '../ci-yaml/plan.js';
import type { PipelinePlan } from '../ci-yaml/types.js';
import type { Executor } from '../executor/types.js';
import type { JobOutcome, RunJobOptions, RunnerSettings } from '../job/types.js';
import { resolveCaches } from './cache-keys.js';
import { createGitRunner, type GitRunner } from './git.js';
import { startGitServer } from './git-server.js';
import { checkConfigCommitted, createCommitProjectFiles } from './git-project-files.js';
import { readDotenvReport } from './dotenv-report.js';
import { LocalArtifactTransport } from './local-artifacts.js';
import { PipelineOutput, type WriteStreams } from './output.js';
import { buildJobPayload } from './payload.js';
import { runPipeline, type JobAttempt, type PipelineResult } from './pipeline.js';
import { pipelineVariables, type PipelineFacts } from './predefined-variables.js';
import { changedFiles, readRepository, type RepositoryState } from './repository.js';
import { createSlotLocks, processSlotLocks, type SlotLocks } from './slot-locks.js';
import { prepareSourceRepository } from './source-repository.js';

export interface RunExecOptions {
  /** Any directory inside the repository. */
  cwd: string;
  /** CI file, relative to the repository root. */
  file: string;
  jobs: string[];
  withNeeds: boolean;
  dirty: boolean;
  concurrency: number;
  variables: Array<{ key: string; value: string }>;
  /** The executor for one concurrency slot (0-based); shell executors need a builds dir per slot. */
  executorForSlot: (slot: number) => Executor;
  /** Host in the git server's URLs (127.0.0.1: QEMU user-mode guests get it rewritten to 10.0.2.2). */
  serverHost: string;
  /** Address the git server listens on; default 127.0.0.1. */
  bindAddress?: string;
  cacheDir: string;
  version: string;
  /** Tart's build revision for the trace header. */
  revision?: string;
  streams: WriteStreams;
  /** Aborted with a CancelReason on Ctrl-C. */
  signal?: AbortSignal;
  /** The job engine (src/job/run-job.ts); a seam for tests. */
  runJob: (options: RunJobOptions) => Promise<JobOutcome>;
  git?: GitRunner;
  tempRoot?: string;
  /**
   * Where slot lock files live (the builds root): every `tart exec` on the host sharing it takes
   * its slots there, so concurrent runs never share a checkout. Absent: slots are this run's own.
   */
  slotLockDir?: string;
}

export interface RunExecResult {
  exitCode: 0 | 1;
  result: PipelineResult;
}

export async function runExec(options: RunExecOptions): Promise<RunExecResult> {
  const git = options.git ?? createGitRunner();
  const output = new PipelineOutput(options.streams);
  const repo = await readRepository(git, options.cwd);
  if (repo.dirty && !options.dirty)
    output.warn(
      'Uncommitted changes are not part of this pipeline (tart exec runs the committed state; add --dirty to include them).',
    );
  const pipelineId = Math.floor(Date.now() / 1000);
  const token = `glcbt-tartexec_${randomBytes(20).toString('hex')}`;
  const source = await prepareSourceRepository({
    git,
    repo,
    pipelineId,
    dirty: options.dirty,
    tempRoot: options.tempRoot,
  });
  const cleanups: Array<() => Promise<void>> = [() => source.remove()];
  try {
    const server = await startGitServer({
      projectRoot: source.root,
      username: 'gitlab-ci-token',
      password: token,
      bindAddress: options.bindAddress,
    });
    cleanups.unshift(() => server.close());
    const artifactsDir = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'tart-exec-artifacts-'));
    cleanups.push(() => rm(artifactsDir, { recursive: true, force: true }));
    const facts: PipelineFacts = {
      pipelineId,
      pipelineIid: 1,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      repo,
      sha: source.sha,
      server: {
        url: `http://${options.serverHost}:${server.port}`,
        host: options.serverHost,
        port: server.port,
      },
      projectId: 1,
      configPath: options.file,
      version: options.version,
    };
    const files = createCommitProjectFiles({
      git,
      root: source.root,
      sha: source.sha,
      gitDir: join(source.root, source.name),
    });
    await checkConfigCommitted(files, options.file, repo.root);
    const plan = await planPipeline({
      files,
      entryFile: options.file,
      pipelineVariables: [...pipelineVariables(facts), ...options.variables],
      changedFiles: (compareTo) => changedFiles(git, repo, { compareTo, includeUncommitted: options.dirty }),
    });
    checkNamedJobs(plan, options.jobs);
    for (const warning of plan.warnings ?? []) output.warn(`${warning} (GitLab's schema; not fatal)`);
    for (const job of plan.ignored ?? []) output.warn(`Job "${job.name}" is not run: ${job.reason}.`);
    for (const note of plan.notes ?? []) output.note(note);
    const transport = new LocalArtifactTransport({ dir: artifactsDir });
    const repoUrl = server.repoUrl(options.serverHost, source.name);
    const slots = new SlotPool(
      options.slotLockDir === undefined
        ? processSlotLocks()
        : createSlotLocks(options.slotLockDir, repo.projectPath),
    );
    output.note(
      `Pipeline ${pipelineId} for ${repo.ref} at ${source.sha.slice(0, 8)}${options.dirty ? ' (with uncommitted changes)' : ''}: ${plan.jobs.length} jobs`,
    );
    const result = await runPipeline({
      plan,
      only: options.jobs,
      withNeeds: options.withNeeds,
      concurrency: options.concurrency,
      onNotRun: (job, status, reason) =>
        output.note(
          `[${job.name}] ${reason ?? (status === 'manual' ? 'manual job, not run (name it on the command line to run it)' : 'skipped')}`,
        ),
      onChildPipeline: (trigger) =>
        output.note(`[${trigger.name}] child pipeline: ${trigger.child?.plan.jobs.length ?? 0} jobs`),
      runJob: (attempt) =>
        slots.use((slot) =>
          runOneJob({ attempt, slot, options, facts, repo, git, token, repoUrl, transport, output }),
        ),
    });
    output.summary(result.jobs);
    return { exitCode: result.passed ? 0 : 1, result };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

async function runOneJob(input: {
  attempt: JobAttempt;
  slot: number;
  options: RunExecOptions;
  facts: PipelineFacts;
  repo: RepositoryState;
  git: GitRunner;
  token: string;
  repoUrl: string;
  transport: LocalArtifactTransport;
  output: PipelineOutput;
}): Promise<JobOutcome> {
  const { attempt, options, transport } = input;
  const caches = await resolveCaches(attempt.job.cache, {
    git: input.git,
    root: input.repo.root,
    sha: input.repo.sha,
  });
  const payload = buildJobPayload({
    job: attempt.job,
    pipeline: input.facts,
    jobFacts: {
      jobId: attempt.jobId,
      startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      token: input.token,
      repoUrl: input.repoUrl,
      executorName: options.executorForSlot(input.slot).name,
    },
    cliVariables: options.variables,
    dotenvVariables: await dotenvVariablesOf(attempt.dependencies, transport),
    caches,
    dependencies: attempt.dependencies.map((dependency) => {
      const archive = transport.archiveOf(dependency.id);
      return {
        ...dependency,
        token: input.token,
        ...(archive ? { artifacts_file: { filename: archive.filename, size: archive.size } } : {}),
      };
    }),
  });
  if (attempt.attempt > 1) input.output.note(`[${attempt.job.name}] retrying (attempt ${attempt.attempt})`);
  if (options.executorForSlot(input.slot).name === 'shell') {
    if (attempt.job.image) {
      input.output.note(
        `[${attempt.job.name}] WARNING: image "${attempt.job.image.name}" is ignored: the shell executor runs jobs on this host`,
      );
    }
    if (attempt.job.services.length > 0) {
      const names = attempt.job.services.map((service) => `"${service.name}"`).join(', ');
      input.output.note(`[${attempt.job.name}] WARNING: services ${names} are ignored: the shell executor runs no services`);
    }
  }
  const trace = input.output.jobTrace(attempt.job.name);
  const outcome = await options.runJob({
    job: payload,
    executor: options.executorForSlot(input.slot),
    runner: runnerSettings(options, input.slot),
    trace,
    artifacts: transport,
    cancel: options.signal ?? new AbortController().signal,
    // A terminal has no job page to hide the prefixes; gitlab-runner has no local `exec` any more.
    traceTimestamps: false,
  });
  trace.end();
  await finished(trace);
  return outcome;
}

// The slot is also the concurrent (project) id, as gitlab-runner numbers its running jobs.
function runnerSettings(options: RunExecOptions, slot: number): RunnerSettings {
  return {
    name: 'tart-exec',
    // Authenticates nothing; constant so shell builds dirs (<short token>/...) are reused between runs.
    token: 'glrt-tart-exec-local',
    environment: [],
    cacheDir: options.cacheDir,
    concurrentId: slot,
    concurrentProjectId: slot,
    version: options.version,
    revision: options.revision,
  };
}

async function dotenvVariablesOf(
  dependencies: JobAttempt['dependencies'],
  transport: LocalArtifactTransport,
): Promise<Array<{ key: string; value: string }>> {
  const reports = dependencies.flatMap((dependency) => transport.dotenvOf(dependency.id) ?? []);
  const lists = await Promise.all(reports.map((report) => readDotenvReport(report.path)));
  return lists.flat();
}

function checkNamedJobs(plan: PipelinePlan, names: string[]): void {
  for (const name of names) {
    if (!plan.jobs.some((job) => job.name === name || job.definedAs === name)) {
      throw new CiConfigError(
        'CI_UNKNOWN_JOB',
        `no job named "${name}" in this pipeline (jobs: ${plan.jobs.map((job) => job.name).join(', ')})`,
      );
    }
  }
}

// Lowest free slot index per running job (free here and in other tart exec processes), so each
// concurrent job gets its own builds dir.
class SlotPool {
  readonly #busy = new Set<number>();

  constructor(private readonly locks: SlotLocks) {}

  // Acquisitions take turns, so two jobs starting together never pick the same free slot.
  #turn: Promise<unknown> = Promise.resolve();

  async use<T>(work: (slot: number) => Promise<T>): Promise<T> {
    const leasing = this.#turn.then(async () => {
      const lease = await this.locks.acquire(this.#busy);
      this.#busy.add(lease.slot);
      return lease;
    });
    this.#turn = leasing.catch(() => undefined);
    const lease = await leasing;
    try {
      return await work(lease.slot);
    } finally {
      this.#busy.delete(lease.slot);
      await lease.release();
    }
  }
}
