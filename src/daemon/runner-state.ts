// Per-[[runners]] bookkeeping: build slots (`limit`), request slots (`request_concurrency`,
// adaptive as FF_USE_ADAPTIVE_REQUEST_CONCURRENCY), and health (unhealthy_requests_limit).

export interface RunnerLimits {
  /** 0 = no limit. */
  limit: number;
  requestConcurrency: number;
  unhealthyRequestsLimit: number;
  unhealthyIntervalMs: number;
}

export class RunnerState {
  runningJobs = 0;
  requestsInFlight = 0;
  private adaptiveConcurrency = 1;
  private consecutiveUnhealthy = 0;
  private unhealthyUntil = 0;

  constructor(private limits: RunnerLimits) {}

  /** A reloaded config's limits; running jobs and requests keep their slots. */
  setLimits(limits: RunnerLimits): void {
    this.limits = limits;
  }

  get unhealthyIntervalMs(): number {
    return this.limits.unhealthyIntervalMs;
  }

  /** Takes a build slot unless `limit` jobs already run. */
  tryAcquireBuild(): boolean {
    if (this.limits.limit > 0 && this.runningJobs >= this.limits.limit) return false;
    this.runningJobs += 1;
    return true;
  }

  releaseBuild(): void {
    this.runningJobs = Math.max(0, this.runningJobs - 1);
  }

  /** Takes a request slot unless the (adaptive) request concurrency is reached. */
  tryAcquireRequest(): boolean {
    const effective = Math.min(this.limits.requestConcurrency, Math.max(1, Math.ceil(this.adaptiveConcurrency)));
    if (this.requestsInFlight >= effective) return false;
    this.requestsInFlight += 1;
    return true;
  }

  /** Releases a request slot and adapts the concurrency to what the request returned. */
  releaseRequest(result: 'job' | 'none' | 'retried'): void {
    this.requestsInFlight = Math.max(0, this.requestsInFlight - 1);
    const factor = result === 'job' ? 1.1 : result === 'none' ? 0.95 : 0.5;
    this.adaptiveConcurrency = Math.min(this.limits.requestConcurrency, Math.max(1, this.adaptiveConcurrency * factor));
  }

  /**
   * Records a healthy or unhealthy request; returns "disabled" when this one reached
   * unhealthy_requests_limit (the runner is then not polled for unhealthy_interval).
   */
  recordHealth(healthy: boolean, now: number): 'disabled' | undefined {
    if (healthy) {
      this.consecutiveUnhealthy = 0;
      this.unhealthyUntil = 0;
      return undefined;
    }
    this.consecutiveUnhealthy += 1;
    if (this.consecutiveUnhealthy < this.limits.unhealthyRequestsLimit) return undefined;
    this.unhealthyUntil = now + this.limits.unhealthyIntervalMs;
    // After the pause one request is forced: start counting afresh.
    this.consecutiveUnhealthy = 0;
    return 'disabled';
  }

  isHealthy(now: number): boolean {
    return now >= this.unhealthyUntil;
  }

  /** True once after each pause: the first request after unhealthy_interval is a re-check. */
  takeRecheck(now: number): boolean {
    if (this.unhealthyUntil === 0 || now < this.unhealthyUntil) return false;
    this.unhealthyUntil = 0;
    return true;
  }
}
