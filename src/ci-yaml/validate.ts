// Phase 7: the semantic checks the JSON schema cannot make — stages exist, `needs` and
// `dependencies` name jobs that run earlier, the needs graph has no cycle. Needs on a
// parallel job are widened to all of its instances; optional needs on absent jobs are dropped.
import { CiConfigError } from './errors.js';
import type { NeedSpec, PlannedJob } from './types.js';

export function checkPipeline(input: {
  jobs: PlannedJob[];
  stages: string[];
  definedJobs: Set<string>;
}): PlannedJob[] {
  const { jobs, stages, definedJobs } = input;
  for (const job of jobs) {
    if (!stages.includes(job.stage)) {
      throw new CiConfigError(
        'CI_UNKNOWN_STAGE',
        `stage "${job.stage}" is not defined in stages (${stages.join(', ')})`,
        { location: job.location, job: job.name },
      );
    }
  }
  const instances = (name: string) => jobs.filter((job) => job.name === name || job.definedAs === name);
  const stageOf = (job: PlannedJob) => stages.indexOf(job.stage);
  const resolved = jobs.map((job) => {
    if (!job.needs) return job;
    const needs: NeedSpec[] = job.needs.flatMap((need) => {
      const targets = instances(need.job);
      if (targets.length === 0) {
        if (need.optional) return [];
        if (need.matrix)
          throw new CiConfigError(
            'CI_NEEDS_UNKNOWN_JOB',
            `needs "${need.job}", but no parallel:matrix job has that name (check the variables and their order)`,
            { location: job.location, job: job.name },
          );
        const why = definedJobs.has(need.job)
          ? `needs "${need.job}", which is not in this pipeline (excluded by rules/only/except)`
          : `needs unknown job "${need.job}"`;
        throw new CiConfigError('CI_NEEDS_UNKNOWN_JOB', why, { location: job.location, job: job.name });
      }
      for (const target of targets) {
        if (stageOf(target) > stageOf(job)) {
          throw new CiConfigError(
            'CI_NEEDS_LATER_STAGE',
            `needs "${target.name}", which runs in a later stage (${target.stage})`,
            { location: job.location, job: job.name },
          );
        }
      }
      return targets.map((target) => ({ ...need, job: target.name }));
    });
    return { ...job, needs };
  });
  for (const job of resolved) checkDependencies(job, resolved, stageOf);
  checkNeedsCycles(resolved);
  return resolved;
}

function checkDependencies(job: PlannedJob, jobs: PlannedJob[], stageOf: (job: PlannedJob) => number): void {
  for (const name of job.dependencies ?? []) {
    const targets = jobs.filter((other) => other.name === name || other.definedAs === name);
    const earlier = targets.filter(
      (target) => stageOf(target) < stageOf(job) || job.needs?.some((need) => need.job === target.name),
    );
    if (earlier.length === 0) {
      const why =
        targets.length === 0
          ? `dependencies names unknown job "${name}"`
          : `dependencies names "${name}", which does not run before this job`;
      throw new CiConfigError('CI_DEPENDENCIES_UNKNOWN_JOB', why, { location: job.location, job: job.name });
    }
  }
}

function checkNeedsCycles(jobs: PlannedJob[]): void {
  const byName = new Map(jobs.map((job) => [job.name, job]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (job: PlannedJob, path: string[]): void => {
    if (state.get(job.name) === 'done') return;
    if (state.get(job.name) === 'visiting') {
      throw new CiConfigError('CI_NEEDS_CYCLE', `needs cycle: ${[...path, job.name].join(' → ')}`, {
        location: job.location,
        job: job.name,
      });
    }
    state.set(job.name, 'visiting');
    for (const need of job.needs ?? []) {
      const target = byName.get(need.job);
      if (target) visit(target, [...path, job.name]);
    }
    state.set(job.name, 'done');
  };
  for (const job of jobs) visit(job, []);
}
