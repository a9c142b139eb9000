// Runs a planned pipeline: stage order or the `needs` DAG, up to `concurrency` jobs at once,
// `when:` against the outcome of what came before, allow_failure, retry. How one job runs is a
// seam (`runJob`), so the scheduling is tested without executors.
import type { PipelinePlan, PlannedJob } from '../ci-yaml/types.js';
import type { JobDependency } from '../model/payload.js';
import type { JobOutcome } from '../job/types.js';
import type { JobStatus, JobSummary } from './output.js';

export interface JobAttempt {
  job: PlannedJob;
  jobId: number;
  attempt: number;
  /** Earlier jobs whose artifacts this job downloads (artifacts_file filled by the caller). */
  dependencies: Array<Pick<JobDependency, 'id' | 'name'>>;
}

export interface RunPipelineOptions {
  plan: PipelinePlan;
  /** Job names to run (with --needs: also what they need); empty: the whole pipeline. */
  only: string[];
  withNeeds: boolean;
  concurrency: number;
  runJob: (attempt: JobAttempt) => Promise<JobOutcome>;
  /** Told when a job will not run, with its status (skipped, manual) and, when useful, why. */
  onNotRun?: (job: PlannedJob, status: JobStatus, reason?: string) => void;
  /** First job id; ids increase by one per attempt. */
  firstJobId?: number;
  /** Shared with child pipelines, so every job id is unique. */
  jobIds?: { next(): number };
  /** Told when a trigger job starts its child pipeline. */
  onChildPipeline?: (trigger: PlannedJob) => void;
}

export interface PipelineResult {
  passed: boolean;
  jobs: JobSummary[];
}

interface JobState {
  job: PlannedJob;
  status?: JobStatus;
  jobId?: number;
  durationMs?: number;
  attempts: number;
}

export async function runPipeline(options: RunPipelineOptions): Promise<PipelineResult> {
  const jobs = selectJobs(options.plan, options.only, options.withNeeds);
  const named = new Set(options.only);
  const states = new Map(jobs.map((job) => [job.name, { job, attempts: 0 } as JobState]));
  const stageIndex = (job: PlannedJob) => options.plan.stages.indexOf(job.stage);
  const upstreamOf = (job: PlannedJob): JobState[] =>
    job.needs
      ? job.needs
          .map((need) => states.get(need.job))
          .filter((state): state is JobState => state !== undefined)
      : [...states.values()].filter((other) => stageIndex(other.job) < stageIndex(job));
  let counter = options.firstJobId ?? 1;
  const jobIds = options.jobIds ?? { next: () => counter++ };
  const childSummaries = new Map<string, JobSummary[]>();
  const blockedNamed: string[] = [];
  const running = new Map<string, Promise<void>>();

  const start = (state: JobState) => {
    const started = Date.now();
    const run = async () => {
      const child = state.job.child;
      if (child) {
        state.attempts = 1;
        state.jobId = jobIds.next();
        options.onChildPipeline?.(state.job);
        const result = await runPipeline({
          ...options,
          plan: child.plan,
          only: [],
          withNeeds: false,
          jobIds,
        });
        childSummaries.set(state.job.name, result.jobs);
        // Without strategy: depend a trigger succeeds once its child pipeline exists, as in GitLab.
        state.status = child.depend && !result.passed ? 'failed' : 'success';
        state.durationMs = Date.now() - started;
        return;
      }
      for (;;) {
        state.attempts++;
        state.jobId = jobIds.next();
        const outcome = await options.runJob({
          job: state.job,
          jobId: state.jobId,
          attempt: state.attempts,
          dependencies: dependenciesOf(state.job, states, upstreamOf(state.job)),
        });
        if (outcome.state === 'success') {
          state.status = 'success';
          break;
        }
        if (!shouldRetry(state.job, outcome, state.attempts)) {
          state.status = failureAllowed(state.job, outcome) ? 'allowed-failure' : 'failed';
          break;
        }
      }
      state.durationMs = Date.now() - started;
    };
    running.set(
      state.job.name,
      run().finally(() => running.delete(state.job.name)),
    );
  };

  for (;;) {
    for (const state of states.values()) {
      if (state.status !== undefined || running.has(state.job.name) || running.size >= options.concurrency)
        continue;
      const upstream = upstreamOf(state.job);
      if (upstream.some((other) => other.status === undefined)) continue;
      const isNamed = named.has(state.job.name) || named.has(state.job.definedAs);
      const { decision, reason } = decide(state.job, upstream, isNamed);
      if (decision === 'run') start(state);
      else {
        state.status = decision;
        // A job named on the command line that a manual job keeps from running fails the run.
        if (isNamed && reason !== undefined) blockedNamed.push(state.job.name);
        options.onNotRun?.(state.job, decision, reason);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  const summaries = [...states.values()].map((state) => ({
    name: state.job.name,
    stage: state.job.stage,
    status: state.status ?? 'skipped',
    durationMs: state.durationMs,
    attempts: state.attempts,
  }));
  return {
    passed: blockedNamed.length === 0 && summaries.every((summary) => summary.status !== 'failed'),
    // A child pipeline's jobs follow the trigger job that ran it.
    jobs: summaries.flatMap((summary) => [summary, ...(childSummaries.get(summary.name) ?? [])]),
  };
}

/** The named jobs (and, with needs, everything they need, transitively); all jobs when none are named. */
export function selectJobs(plan: PipelinePlan, only: string[], withNeeds: boolean): PlannedJob[] {
  if (only.length === 0) return plan.jobs;
  const chosen = new Set<string>();
  const add = (job: PlannedJob) => {
    if (chosen.has(job.name)) return;
    chosen.add(job.name);
    if (!withNeeds) return;
    const needed = job.needs
      ? job.needs.map((need) => need.job)
      : plan.jobs
          .filter((other) => plan.stages.indexOf(other.stage) < plan.stages.indexOf(job.stage))
          .map((other) => other.name);
    for (const name of needed) {
      const target = plan.jobs.find((other) => other.name === name);
      if (target) add(target);
    }
  };
  for (const job of plan.jobs) if (only.includes(job.name) || only.includes(job.definedAs)) add(job);
  return plan.jobs.filter((job) => chosen.has(job.name));
}

// GitLab's `when:` against the jobs before: a failure that is not allowed counts as failed;
// skipped and manual jobs neither pass nor fail for stage ordering, but block jobs that need them.
// A blocking manual job (not allowed to fail) that was not run holds back the later stages, as
// GitLab's pipeline stays "blocked" there.
function decide(
  job: PlannedJob,
  upstream: JobState[],
  namedOnCommandLine: boolean,
): { decision: 'run' | 'skipped' | 'manual'; reason?: string } {
  const failed = upstream.some((other) => other.status === 'failed');
  const manualNeed =
    job.needs !== undefined ? upstream.find((other) => other.status === 'manual') : undefined;
  const skippedNeed =
    job.needs !== undefined ? upstream.find((other) => other.status === 'skipped') : undefined;
  const blockingManual =
    job.needs === undefined
      ? upstream.find((other) => other.status === 'manual' && !other.job.allowFailure.allowed)
      : undefined;
  const held = manualNeed ?? blockingManual;
  const reason =
    held !== undefined
      ? `not run: it waits for "${held.job.name}", a manual job that was not run (name it on the command line to run it)`
      : undefined;
  const run = () => {
    if (failed || skippedNeed !== undefined) return { decision: 'skipped' as const };
    if (held !== undefined) return { decision: 'skipped' as const, reason };
    return { decision: 'run' as const };
  };
  switch (job.when) {
    case 'manual':
      if (!namedOnCommandLine) return { decision: 'manual' };
      return run();
    case 'always':
      return { decision: 'run' };
    case 'on_failure':
      return failed ? { decision: 'run' } : { decision: 'skipped' };
    case 'never':
      return { decision: 'skipped' };
    default:
      return run();
  }
}

function dependenciesOf(
  job: PlannedJob,
  states: Map<string, JobState>,
  upstream: JobState[],
): JobAttempt['dependencies'] {
  const names = job.dependencies
    ? job.dependencies.flatMap((name) =>
        [...states.values()]
          .filter((state) => state.job.name === name || state.job.definedAs === name)
          .map((state) => state.job.name),
      )
    : job.needs
      ? job.needs.filter((need) => need.artifacts).map((need) => need.job)
      : upstream.map((state) => state.job.name);
  return names.flatMap((name) => {
    const state = states.get(name);
    return state?.jobId !== undefined &&
      (state.status === 'success' || state.status === 'allowed-failure' || state.status === 'failed')
      ? [{ id: state.jobId, name }]
      : [];
  });
}

// retry:when names failure reasons; tart exec reports script failures as script_failure.
function shouldRetry(job: PlannedJob, outcome: JobOutcome, attempts: number): boolean {
  if (attempts > job.retry.max) return false;
  const reason = outcome.failureReason ?? 'unknown_failure';
  return job.retry.when.includes('always') || job.retry.when.includes(reason);
}

function failureAllowed(job: PlannedJob, outcome: JobOutcome): boolean {
  if (job.allowFailure.allowed) return true;
  return outcome.exitCode !== undefined && job.allowFailure.exitCodes.includes(outcome.exitCode);
}
