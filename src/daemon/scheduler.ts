// gitlab-runner's polling schedule (protocol reference §2.5): `concurrent` workers; a feeder
// offers each [[runners]] entry to a free worker, then sleeps check_interval / number of
// runners (with jitter); a worker that received a job re-offers the entry at once
// ("burst pickup") so another free worker asks again without waiting.
import { Rendezvous } from './rendezvous.js';
import type { RunnerState } from './runner-state.js';

export interface ScheduledRunner {
  readonly name: string;
  readonly state: RunnerState;
}

export interface SchedulerOptions<R extends ScheduledRunner, J> {
  runners: R[];
  concurrent: number;
  checkIntervalMs: number;
  /** Asks GitLab for one job; undefined when there is none. Aborted when requesting stops. */
  requestJob: (runner: R, signal: AbortSignal) => Promise<J | undefined>;
  /** Runs a received job to its final update. Never rejects. */
  runJob: (runner: R, job: J) => Promise<void>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export class Scheduler<R extends ScheduledRunner, J> {
  private readonly channel = new Rendezvous<R>();
  private readonly requesting = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private feeder: Promise<void> | undefined;
  private runners: readonly R[];
  private concurrent: number;
  private checkIntervalMs: number;
  private activeWorkers = 0;

  constructor(private readonly options: SchedulerOptions<R, J>) {
    this.runners = [...options.runners];
    this.concurrent = Math.max(1, options.concurrent);
    this.checkIntervalMs = options.checkIntervalMs;
  }

  /** A reloaded check_interval: applies from the next pause. */
  setCheckInterval(ms: number): void {
    this.checkIntervalMs = ms;
  }

  /** Starts the feeder and the workers. */
  start(): void {
    this.startWorkers();
    this.feeder = this.feedLoop();
  }

  /** A reloaded config: polling moves to `runners` from the next round; running jobs go on. */
  setRunners(runners: readonly R[]): void {
    this.runners = [...runners];
  }

  /** A reloaded `concurrent`: more workers start now; surplus ones stop after their current job. */
  setConcurrent(concurrent: number): void {
    this.concurrent = Math.max(1, concurrent);
    if (this.feeder !== undefined && !this.stopped) this.startWorkers();
  }

  private startWorkers(): void {
    while (this.activeWorkers < this.concurrent) {
      this.activeWorkers += 1;
      this.workers.push(this.workerLoop());
    }
  }

  /** Stops asking for jobs (in-flight requests are aborted); running jobs go on. */
  stopRequesting(): void {
    this.requesting.abort(new Error('stopped requesting jobs'));
  }

  /** Resolves when requesting has stopped and every running job has finished. */
  async whenStopped(): Promise<void> {
    await Promise.all([this.feeder, ...this.workers]);
  }

  get stopped(): boolean {
    return this.requesting.signal.aborted;
  }

  // Offers each runner entry in turn, pacing the whole round to check_interval.
  private async feedLoop(): Promise<void> {
    const signal = this.requesting.signal;
    const sleep = this.options.sleep ?? abortableSleep;
    const random = this.options.random ?? Math.random;
    while (!signal.aborted) {
      const runners = this.runners;
      // No runner yet (a fresh host, or all removed): wait for a reload to add one.
      if (runners.length === 0) await sleep(this.checkIntervalMs, signal);
      for (const runner of runners) {
        if (!this.runners.includes(runner)) continue; // removed by a reload during this round
        try {
          await this.channel.offer(runner, signal);
          const pause = this.checkIntervalMs / runners.length;
          await sleep(pause * (0.9 + 0.2 * random()), signal);
        } catch {
          if (signal.aborted) return;
        }
      }
    }
  }

  // One worker: takes a runner entry, maybe requests a job, runs it, repeats.
  private async workerLoop(): Promise<void> {
    const signal = this.requesting.signal;
    while (!signal.aborted && this.activeWorkers <= this.concurrent) {
      let runner: R;
      try {
        runner = await this.channel.take(signal);
      } catch {
        break;
      }
      await this.processRunner(runner, signal);
    }
    this.activeWorkers -= 1;
  }

  private async processRunner(runner: R, signal: AbortSignal): Promise<void> {
    const now = this.options.now ?? Date.now;
    const state = runner.state;
    if (!state.isHealthy(now())) return;
    if (!state.tryAcquireBuild()) return;
    try {
      if (!state.tryAcquireRequest()) return;
      let job: J | undefined;
      try {
        job = await this.options.requestJob(runner, signal);
      } catch {
        job = undefined;
      } finally {
        state.releaseRequest(job === undefined ? 'none' : 'job');
      }
      if (job === undefined) return;
      if (!signal.aborted) this.channel.tryOffer(runner);
      await this.options.runJob(runner, job);
    } finally {
      state.releaseBuild();
    }
  }
}

/** setTimeout as a promise that resolves early (without error) when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
