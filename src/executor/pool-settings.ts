// A runner's warm-pool settings, and what a config reload does to its executor: a change of the
// pool's size alone (idle_count, idle_time, the VM budget from `limit` and `concurrent`), or of the
// runner's token (a rotation), keeps the executor and resizes the running pool in place, as gitlab-runner's autoscaler applies a new idle_count; any other
// change to the runner entry (image, memory, cpus, network, executor kind, …) builds a new
// executor, whose VMs boot from zero.
import { isDeepStrictEqual } from 'node:util';
import type { RunnerConfig } from '../config/types.js';

export interface PoolSettings {
  /** VMs kept ready ([runners.vm] idle_count; 0 = none). */
  idleCount: number;
  /** Seconds a ready VM may wait for a job before it is replaced ([runners.vm] idle_time; 0 = never). */
  idleTimeSeconds: number;
  /** Most VMs the runner may have at once, pooled and in use: its `limit` within `concurrent`. */
  maxVms: number;
}

/** What a reload does to a runner's executor: keep it as is, resize its pool, or replace it. */
export type ReloadEffect = 'unchanged' | 'resize' | 'replace';

export function poolSettingsOf(runner: RunnerConfig, concurrent: number | undefined): PoolSettings {
  return {
    idleCount: runner.vm.idleCount,
    idleTimeSeconds: runner.vm.idleTime,
    maxVms: vmBudget(runner.limit, concurrent),
  };
}

/** The effect of replacing `previous` by `next` (the same runner: same url and token) on its executor. */
export function reloadEffectOf(previous: RunnerConfig, next: RunnerConfig): ReloadEffect {
  if (isDeepStrictEqual(previous, next)) return 'unchanged';
  return isDeepStrictEqual(withoutPoolSettings(previous), withoutPoolSettings(next)) ? 'resize' : 'replace';
}

// The entry with the keys that only size the pool blanked, and the runner's token (rotated by
// GitLab; the executor never reads it): what the executor is built from besides.
function withoutPoolSettings(runner: RunnerConfig): RunnerConfig {
  const { tokenObtainedAt: _obtained, tokenExpiresAt: _expires, ...rest } = runner;
  return { ...rest, token: '', limit: 0, vm: { ...runner.vm, idleCount: 0, idleTime: 0 } };
}

// gitlab-runner's `limit` bounds a runner's machines, idle ones included; `concurrent` bounds all jobs.
function vmBudget(limit: number, concurrent: number | undefined): number {
  const global = concurrent && concurrent > 0 ? concurrent : Number.POSITIVE_INFINITY;
  const own = limit > 0 ? limit : Number.POSITIVE_INFINITY;
  const budget = Math.min(global, own);
  return Number.isFinite(budget) ? budget : Number.MAX_SAFE_INTEGER;
}
