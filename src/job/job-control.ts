// The abort signals one job runs under (job execution reference §7): the job signal (deadline,
// hard cancel, shutdown) stops everything; the script signal also stops on a graceful cancel
// ("canceling") or RUNNER_SCRIPT_TIMEOUT, and only the step_* stages listen to it.
import type { CancelReason } from './types.js';

export type StopReason = CancelReason | { kind: 'timeout' } | { kind: 'script-timeout' };

export class JobControl {
  readonly #job = new AbortController();
  readonly #script = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #cancel: AbortSignal;
  readonly #onCancel = (): void => this.#cancelWith(this.#cancel.reason);
  readonly #hardCancel: AbortSignal | undefined;
  readonly #onHardCancel = (): void => {
    const kind = (this.#hardCancel?.reason as Partial<CancelReason> | undefined)?.kind;
    this.#stopJob(kind === 'shutdown' ? { kind } : { kind: 'canceled' });
  };

  constructor(options: { cancel: AbortSignal; hardCancel?: AbortSignal; timeoutMs: number }) {
    this.#cancel = options.cancel;
    this.#hardCancel = options.hardCancel;
    if (options.hardCancel?.aborted) this.#onHardCancel();
    else options.hardCancel?.addEventListener('abort', this.#onHardCancel, { once: true });
    this.#timers.push(setTimeout(() => this.#stopJob({ kind: 'timeout' }), options.timeoutMs));
    if (options.cancel.aborted) this.#onCancel();
    else options.cancel.addEventListener('abort', this.#onCancel, { once: true });
  }

  /** Aborted on the job deadline, a hard cancel or shutdown; reason is a StopReason. */
  get job(): AbortSignal {
    return this.#job.signal;
  }

  /** Aborted whenever `job` is, and also on a graceful cancel or the script timeout. */
  get script(): AbortSignal {
    return this.#script.signal;
  }

  /** Why the job was stopped from outside, if it was. */
  get jobStop(): StopReason | undefined {
    return this.#job.signal.aborted ? (this.#job.signal.reason as StopReason) : undefined;
  }

  /** Why the script was stopped, if it was. */
  get scriptStop(): StopReason | undefined {
    return this.#script.signal.aborted ? (this.#script.signal.reason as StopReason) : undefined;
  }

  /** Starts RUNNER_SCRIPT_TIMEOUT when the first step begins. */
  startScriptTimeout(timeoutMs: number | undefined): void {
    if (timeoutMs === undefined) return;
    this.#timers.push(setTimeout(() => this.#stopScript({ kind: 'script-timeout' }), timeoutMs));
  }

  /** A signal for after_script: the job signal plus its own timeout (reason: TimeoutError). */
  afterScriptSignal(timeoutMs: number): AbortSignal {
    return AbortSignal.any([this.#job.signal, AbortSignal.timeout(timeoutMs)]);
  }

  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#cancel.removeEventListener('abort', this.#onCancel);
    this.#hardCancel?.removeEventListener('abort', this.#onHardCancel);
  }

  // A signal aborted without a CancelReason (plain abort()) counts as a hard cancel.
  #cancelWith(reason: unknown): void {
    const kind = (reason as Partial<CancelReason> | undefined)?.kind;
    if (kind === 'canceling') this.#stopScript({ kind });
    else this.#stopJob(kind === 'shutdown' ? { kind } : { kind: 'canceled' });
  }

  #stopJob(reason: StopReason): void {
    this.#stopScript(reason);
    if (!this.#job.signal.aborted) this.#job.abort(reason);
  }

  #stopScript(reason: StopReason): void {
    if (!this.#script.signal.aborted) this.#script.abort(reason);
  }
}
