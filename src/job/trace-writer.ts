// The job's trace as the engine writes it: every byte (the engine's own lines and each stage's
// stdout/stderr) passes through the secret masker, then (FF_TIMESTAMPS) the per-line timestamper,
// before it reaches the sink, in the order it was produced. Writes are serialised through one
// queue so lines never interleave mid-chunk.
import { once } from 'node:events';
import { Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  errorLine,
  infoLine,
  plainLine,
  sectionEndMarker,
  sectionStartMarker,
  stageHeaderLine,
  warningLine,
} from './log-format.js';
import {
  LineTimestamper,
  RUNNER_STREAM,
  SCRIPT_STREAM,
  createMicrosClock,
  type MicrosClock,
} from './trace-timestamps.js';

/** How the writer hides secrets; run-job wires the real masker from masking.ts. */
export interface TraceMasking {
  /** A fresh streaming masker for one output stream (holds back partial matches). */
  createStreamMasker(): Transform;
  /** Masks one complete piece of text (a runner line). */
  maskText(text: string): string;
}

/**
 * A sink that stops keeping output at some point (the TraceBuffer at its output limit): from then
 * on the writer neither masks nor queues anything, since every byte would be dropped.
 */
export interface LimitedSink {
  readonly limitReached: boolean;
}

/** The two output streams of one stage command; `close` flushes both maskers into the trace. */
export interface StageOutput {
  stdout: Writable;
  stderr: Writable;
  close(): Promise<void>;
}

export class TraceWriter {
  readonly #sink: Writable;
  readonly #traceSections: boolean;
  readonly #now: () => Date;
  /** Per-line timestamps (FF_TIMESTAMPS): the clock, and the runner lines' stream (id 0, stdout). */
  readonly #clock: MicrosClock | undefined;
  readonly #runnerLines: LineTimestamper | undefined;
  #masking: TraceMasking;
  #tail: Promise<void> = Promise.resolve();
  #sinkError: unknown;
  readonly #onSinkError = (error: unknown): void => {
    this.#sinkError ??= error;
  };

  constructor(options: {
    sink: Writable;
    masking: TraceMasking;
    traceSections: boolean;
    now?: () => Date;
    /** Prefix every line with gitlab-runner's timestamp header (FF_TIMESTAMPS). */
    timestamps?: boolean;
    /** The timestamps' clock in microseconds (tests fix it). */
    clock?: MicrosClock;
  }) {
    this.#sink = options.sink;
    this.#masking = options.masking;
    this.#traceSections = options.traceSections;
    this.#now = options.now ?? (() => new Date());
    this.#clock = options.timestamps === true ? (options.clock ?? createMicrosClock()) : undefined;
    this.#runnerLines = this.#timestamper(RUNNER_STREAM, false);
    this.#sink.on('error', this.#onSinkError);
  }

  /** Switches to a new secret list (once the full variable list is known). */
  setMasking(masking: TraceMasking): void {
    this.#masking = masking;
  }

  /** Writes text as is (it carries its own newline), masked; one write as gitlab-runner's SendRawLog. */
  write(text: string): void {
    if (this.#sinkFull()) return;
    const masked = Buffer.from(this.#masking.maskText(text), 'utf8');
    this.#enqueue(this.#runnerLines ? this.#runnerLines.write(masked) : masked);
  }

  plain(text: string): void {
    this.write(plainLine(text));
  }

  info(text: string): void {
    this.write(infoLine(text));
  }

  warning(text: string): void {
    this.write(warningLine(text));
  }

  error(text: string): void {
    this.write(errorLine(text));
  }

  /** One line from a helper (artifacts, cache): the text as given plus a newline. */
  helperLine(text: string): void {
    this.write(`${text}\n`);
  }

  /** The start marker (when sections are on) and the cyan stage header. */
  sectionStart(name: string, description: string): void {
    // Two writes, as gitlab-runner's: with timestamps the marker is an entry of its own.
    if (this.#traceSections) this.write(sectionStartMarker(name, this.#now()));
    this.write(stageHeaderLine(description));
  }

  sectionEnd(name: string): void {
    if (this.#traceSections) this.write(sectionEndMarker(name, this.#now()));
  }

  /** Opens masked stdout/stderr streams for one stage command (stream 1, as gitlab-runner's). */
  openStageOutput(): StageOutput {
    const stdout = this.#maskedStream(this.#timestamper(SCRIPT_STREAM, false));
    const stderr = this.#maskedStream(this.#timestamper(SCRIPT_STREAM, true));
    return {
      stdout: stdout.input,
      stderr: stderr.input,
      close: async () => {
        stdout.input.end();
        stderr.input.end();
        await Promise.all([stdout.done, stderr.done]);
      },
    };
  }

  /** Resolves once everything queued so far has been handed to the sink. */
  async flush(): Promise<void> {
    await this.#tail;
  }

  /** Flushes and detaches from the sink (the caller owns and ends it). */
  async finish(): Promise<void> {
    if (this.#runnerLines) this.#enqueue(this.#runnerLines.close());
    await this.flush();
    this.#sink.off('error', this.#onSinkError);
  }

  // A streaming masker whose output (timestamped when on) joins the write queue; backpressure
  // reaches the producer. Output that arrives once the sink is full skips the masker.
  #maskedStream(lines: LineTimestamper | undefined): { input: Writable; done: Promise<void> } {
    const masker = this.#masking.createStreamMasker();
    // An abandoned command may still write after close; that must not crash the runner.
    masker.on('error', () => undefined);
    const input = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (this.#sinkFull() || masker.write(chunk)) callback();
        else masker.once('drain', () => callback());
      },
      final: (callback) => {
        masker.end();
        callback();
      },
    });
    input.on('error', () => undefined);
    const gate = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.#enqueue(lines ? lines.write(chunk) : chunk);
        this.#tail.then(() => callback(), callback);
      },
      final: (callback) => {
        if (lines) this.#enqueue(lines.close());
        this.#tail.then(() => callback(), callback);
      },
    });
    return { input, done: pipeline(masker, gate) };
  }

  #timestamper(streamId: number, stderr: boolean): LineTimestamper | undefined {
    return this.#clock ? new LineTimestamper({ streamId, stderr, clock: this.#clock }) : undefined;
  }

  #sinkFull(): boolean {
    return 'limitReached' in this.#sink && (this.#sink as Writable & LimitedSink).limitReached;
  }

  // Serialises writes; a broken sink is remembered and later output is dropped, the job goes on.
  #enqueue(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#tail = this.#tail
      .then(async () => {
        if (this.#sinkError !== undefined || this.#sink.destroyed || this.#sink.writableEnded) return;
        if (!this.#sink.write(chunk)) await drainOrClose(this.#sink);
      })
      .catch(this.#onSinkError);
  }
}

// Waits until the sink can take more, or is gone (a destroyed sink never drains).
async function drainOrClose(sink: Writable): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([
      once(sink, 'drain', { signal: stop.signal }),
      once(sink, 'close', { signal: stop.signal }),
    ]);
  } finally {
    stop.abort();
  }
}
