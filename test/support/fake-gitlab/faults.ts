// Scripted misbehaviour: a FIFO of faults per endpoint, consumed by the requests that reach it.
// Generic faults (status, drop, delay) are applied by the dispatcher; protocol-specific ones
// (trace-416, update-202) are taken by their route, which knows when they apply.

export type FaultEndpoint =
  | 'register'
  | 'verify'
  | 'unregister'
  | 'unregister-manager'
  | 'reset-token'
  | 'request'
  | 'update'
  | 'trace'
  | 'artifacts-upload'
  | 'artifacts-download'
  | 'object-storage'
  | 'git';

export type FaultKind =
  /** Answer with this status (and optional headers/body) without touching any state. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the socket: before handling (nothing happened) or after (state changed, answer lost). */
  | { kind: 'drop'; afterHandling?: boolean }
  /** Wait, then handle normally. */
  | { kind: 'delay'; ms: number }
  /** Trace endpoint only: answer 416 with the true size, storing nothing. */
  | { kind: 'trace-416' }
  /** Update endpoint only: answer final updates with 202 + X-GitLab-Trace-Update-Interval. */
  | { kind: 'update-202'; times?: number; interval: number };

export type FaultSpec = FaultKind & {
  endpoint: FaultEndpoint;
  /** How many requests the fault applies to (default 1; `times` for update-202). */
  count?: number;
  /** How many requests to the endpoint pass untouched before the fault applies (default 0). */
  after?: number;
};

export type GenericFault = Extract<FaultKind, { kind: 'status' | 'drop' | 'delay' }>;

interface QueuedFault {
  fault: FaultKind;
  remaining: number;
  skip: number;
}

const SPECIAL_ENDPOINT: Record<string, FaultEndpoint> = { 'trace-416': 'trace', 'update-202': 'update' };

export class FaultQueue {
  private readonly queues = new Map<FaultEndpoint, QueuedFault[]>();

  inject(spec: FaultSpec): void {
    const { endpoint, count, after, ...fault } = spec;
    const only = SPECIAL_ENDPOINT[fault.kind];
    if (only !== undefined && only !== endpoint) {
      throw new Error(`fault kind ${fault.kind} only applies to the ${only} endpoint, not ${endpoint}`);
    }
    const remaining = fault.kind === 'update-202' ? (fault.times ?? count ?? 1) : (count ?? 1);
    if (!Number.isInteger(remaining) || remaining < 1)
      throw new Error(`fault count must be a positive integer`);
    const queue = this.queues.get(endpoint) ?? [];
    queue.push({ fault, remaining, skip: after ?? 0 });
    this.queues.set(endpoint, queue);
  }

  /** Called once per request: counts down `after`, and returns a generic fault to apply now. */
  nextGeneric(endpoint: FaultEndpoint): GenericFault | undefined {
    const head = this.queues.get(endpoint)?.[0];
    if (head === undefined) return undefined;
    if (head.skip > 0) {
      head.skip -= 1;
      return undefined;
    }
    if (head.fault.kind !== 'status' && head.fault.kind !== 'drop' && head.fault.kind !== 'delay')
      return undefined;
    const fault = head.fault;
    this.consume(endpoint, head);
    return fault;
  }

  /** Takes the head fault when it is of `kind` and its `after` has run out. */
  takeSpecial<K extends 'trace-416' | 'update-202'>(
    endpoint: FaultEndpoint,
    kind: K,
  ): Extract<FaultKind, { kind: K }> | undefined {
    const head = this.queues.get(endpoint)?.[0];
    if (head === undefined || head.skip > 0 || head.fault.kind !== kind) return undefined;
    this.consume(endpoint, head);
    return head.fault as Extract<FaultKind, { kind: K }>;
  }

  /** Faults not yet (fully) consumed, for tests asserting that a script ran to its end. */
  pending(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }

  private consume(endpoint: FaultEndpoint, head: QueuedFault): void {
    head.remaining -= 1;
    if (head.remaining === 0) this.queues.get(endpoint)?.shift();
  }
}
