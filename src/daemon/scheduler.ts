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

  constructor(private readonly options: SchedulerOptions<R, J>) {}

  /** Starts the feeder and the workers. */
  start(): void {
    for (let index = 0; index < Math.max(1, this.options.concurrent); index += 1) {
      this.workers.push(this.workerLoop());
    }
    this.feeder = this.feedLoop();
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
    const runners = this.options.runners;
    if (runners.length === 0) return;
    while (!signal.aborted) {
      for (const runner of runners) {
        try {
          await this.channel.offer(runner, signal);
          const pause = this.options.checkIntervalMs / runners.length;
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
    while (!signal.aborted) {
      let runner: R;
      try {
        runner = await this.channel.take(signal);
      } catch {
        return;
      }
      await this.processRunner(runner, signal);
    }
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
