// Sends a TraceBuffer to GitLab with PATCH /jobs/:id/trace (protocol reference §4.1–§4.4):
// byte ranges acknowledged by the server are never resent, a 416 resyncs from the server's
// size, Job-Status/403 turn into cancel events, and keep-alive PUTs prevent "stuck" failures.
import { EventEmitter } from 'node:events';
import type { CancelReason } from '../model/cancel-reason.js';
import { headerValue, type ApiResponse } from './api-response.js';
import { callApi } from './http.js';
import type { ConnectionOptions } from './registration.js';
import type { RetryPolicy } from './retry-policy.js';
import type { RunnerInfo } from './runner-info.js';
import type { TraceBuffer } from './trace-buffer.js';
import { updateJob } from './update-job.js';

/** gitlab-runner's largest PATCH body: 1 MiB. */
export const MAX_PATCH_BYTES = 1024 * 1024;

/** gitlab-runner's first and final-flush interval between sends: 3 s. */
const UPDATE_INTERVAL_MS = 3000;

export interface TraceSenderOptions extends ConnectionOptions {
  jobId: number;
  jobToken: string;
  buffer: TraceBuffer;
  /** `debug_trace=true` when CI_DEBUG_TRACE/CI_DEBUG_SERVICES is on. */
  debugTrace?: boolean;
  /** For keep-alive PUTs. */
  info?: RunnerInfo;
  /** First and final-flush interval between sends (gitlab-runner: 3 s); the server may change it. */
  updateIntervalMs?: number;
  /** Cap on the server-given interval (gitlab-runner: 15 min). */
  maxUpdateIntervalMs?: number;
  /** Send a keep-alive PUT when nothing succeeded for this long (gitlab-runner: 30 s). */
  forceSendIntervalMs?: number;
  maxPatchBytes?: number;
  /** HTTP retries of each PATCH (default gitlab-runner's 5 attempts). */
  patchRetry?: Partial<RetryPolicy>;
  /** `finish()` gives up after this many consecutive unsuccessful sends (gitlab-runner: 10). */
  finishAttempts?: number;
}

type PatchResult = 'sent' | 'nothing' | 'resynced' | 'abort' | 'not-found' | 'failed';

export interface TraceSenderEvents {
  cancel: [CancelReason];
}

export class TraceSender extends EventEmitter<TraceSenderEvents> {
  #options: TraceSenderOptions;
  #sent = 0;
  #intervalMs: number;
  #lastContact = Date.now();
  #running = false;
  #loop: Promise<void> | undefined;
  #inflight = new AbortController();
  #wakeSleeper: (() => void) | undefined;
  #aborted = false;
  #gracefulRequested = false;

  constructor(options: TraceSenderOptions) {
    super();
    this.#options = options;
    this.#intervalMs = options.updateIntervalMs ?? UPDATE_INTERVAL_MS;
  }

  /** Bytes the server has acknowledged. */
  get sentBytes(): number {
    return this.#sent;
  }

  /** Milliseconds between periodic sends, as last set by the server. */
  get updateIntervalMs(): number {
    return this.#intervalMs;
  }

  /** True once GitLab said the job is over for this runner (canceled, failed, 403). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Starts the periodic send loop. */
  start(): void {
    if (this.#running || this.#aborted) return;
    this.#running = true;
    this.#lastContact = Date.now();
    this.#loop = this.#run();
  }

  /** Stops the loop now, abandoning an in-flight request. Nothing more is sent. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#inflight.abort();
    this.#wakeSleeper?.();
    await this.#loop;
  }

  /**
   * Waits for the buffer to be complete, then sends every remaining byte (the step before the
   * final PUT). Resolves with `complete: false` if GitLab ended the job or sending kept failing.
   */
  async finish(): Promise<{ complete: boolean }> {
    await this.#options.buffer.whenComplete();
    this.#running = false;
    this.#wakeSleeper?.();
    await this.#loop;
    this.#inflight = new AbortController();
    this.#intervalMs = this.#options.updateIntervalMs ?? UPDATE_INTERVAL_MS;
    const maxTries = this.#options.finishAttempts ?? 10;
    for (let unsuccessful = 0; !this.#aborted && this.#sent < this.#options.buffer.size;) {
      const result = await this.#sendPatch();
      if (result === 'sent') unsuccessful = 0;
      else if (result === 'abort' || result === 'not-found') break;
      else if (++unsuccessful >= maxTries) break;
      else
        await this.#sleep(this.#intervalMs * (result === 'failed' ? 2 ** Math.min(unsuccessful - 1, 6) : 1));
    }
    return { complete: !this.#aborted && this.#sent >= this.#options.buffer.size };
  }

  async #run(): Promise<void> {
    while (this.#running && !this.#aborted) {
      const last = await this.#sendPending();
      // As gitlab-runner: a keep-alive only follows a cycle whose patches did not fail.
      if (this.#running && !this.#aborted && last === 'nothing') await this.#keepAliveIfQuiet();
      if (this.#running && !this.#aborted) await this.#sleep(this.#intervalMs);
    }
  }

  // Everything written so far, in chunks of at most maxPatchBytes; stops at the first setback.
  async #sendPending(): Promise<PatchResult> {
    while (this.#running && !this.#aborted) {
      const result = await this.#sendPatch();
      if (result !== 'sent') return result;
    }
    return 'abort';
  }

  async #sendPatch(): Promise<PatchResult> {
    const buffer = this.#options.buffer;
    const start = this.#sent;
    const body = await buffer.read(start, this.#options.maxPatchBytes ?? MAX_PATCH_BYTES);
    if (body.length === 0) return 'nothing';
    let response: ApiResponse;
    try {
      response = await callApi(this.#options, {
        method: 'PATCH',
        endpoint: '/jobs/:id/trace',
        params: { id: this.#options.jobId },
        query: { debug_trace: String(this.#options.debugTrace ?? false) },
        headers: {
          'JOB-TOKEN': this.#options.jobToken,
          'Content-Range': `${start}-${start + body.length - 1}`,
        },
        body,
        contentType: 'text/plain',
        signal: this.#inflight.signal,
        retry: this.#options.patchRetry,
      });
    } catch {
      return 'failed'; // no response: the next cycle sends the same range again (a 416 tells us if it arrived)
    }
    this.#applyServerInterval(response);
    if (this.#applyJobStatus(response)) return 'abort';
    if (response.status === 202) {
      this.#sent = start + body.length;
      this.#lastContact = Date.now();
      return 'sent';
    }
    if (response.status === 416) return this.#resync(response);
    return response.status === 404 ? 'not-found' : 'failed';
  }

  // On 416 continue from the server's size (`Range: 0-<size>`); 0 means a full resend (trace_reset).
  #resync(response: ApiResponse): PatchResult {
    const match = /^\s*0-(\d+)\s*$/.exec(headerValue(response.headers, 'range') ?? '');
    const serverSize = match ? Number(match[1]) : NaN;
    if (!Number.isSafeInteger(serverSize) || serverSize > this.#options.buffer.size) return 'failed';
    this.#sent = serverSize;
    return 'resynced';
  }

  // Returns true when the job must stop now.
  #applyJobStatus(response: ApiResponse): boolean {
    const jobStatus = headerValue(response.headers, 'job-status');
    if (response.status === 403 || jobStatus === 'canceled' || jobStatus === 'failed') {
      this.#abort();
      return true;
    }
    if (jobStatus === 'canceling' && !this.#gracefulRequested) {
      this.#gracefulRequested = true;
      this.emit('cancel', { kind: 'canceling' });
    }
    return false;
  }

  #abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#running = false;
    this.emit('cancel', { kind: 'canceled' });
  }

  #applyServerInterval(response: ApiResponse): void {
    const seconds = Number(headerValue(response.headers, 'x-gitlab-trace-update-interval'));
    if (Number.isFinite(seconds) && seconds > 0)
      this.#intervalMs = Math.min(seconds * 1000, this.#options.maxUpdateIntervalMs ?? 15 * 60_000);
  }

  // A PUT state=running with the current checksum when GitLab heard nothing for forceSendIntervalMs.
  async #keepAliveIfQuiet(): Promise<void> {
    if (Date.now() - this.#lastContact < (this.#options.forceSendIntervalMs ?? 30_000)) return;
    try {
      const result = await updateJob({
        ...this.#options,
        state: 'running',
        checksum: this.#options.buffer.checksum,
        bytesize: this.#options.buffer.size,
        signal: this.#inflight.signal,
        maxAcceptWaits: 0,
      });
      this.#lastContact = Date.now();
      if (result.outcome !== 'accepted') this.#abort();
      else if (result.jobStatus === 'canceling' && !this.#gracefulRequested) {
        this.#gracefulRequested = true;
        this.emit('cancel', { kind: 'canceling' });
      }
    } catch {
      // Retried on the next cycle.
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeSleeper = done;
    });
  }
}
