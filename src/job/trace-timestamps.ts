// Per-line trace timestamps (FF_TIMESTAMPS), byte for byte as gitlab-runner's
// common/buildlogger/internal/timestamper: every entry starts with a 32-byte header
//   2026-01-01T00:00:00.123456Z 01O<flag>
// (UTC time to the microsecond, a space, the stream id in 2 hex digits, O/E for stdout/stderr, and
// ' ' for a new line or '+' for the continuation of one). An entry ends at each '\n'; a write with
// a '\r' after its last '\n' (section markers, progress bars) is flushed whole as one entry with a
// '\n' added; other text without a newline waits for one, up to 8 KiB, past which it is written
// with a '\n' added. Runs after masking, on masked bytes; scans with native indexOf only.

/** Microseconds since the Unix epoch. */
export type MicrosClock = () => number;

/** gitlab-runner's stream ids: 0 for the runner's own lines, 1 for the stage scripts' output. */
export const RUNNER_STREAM = 0;
export const SCRIPT_STREAM = 1;

const HEADER_LENGTH = 32;
/** Text without a newline held back before it is written as a split entry (gitlab-runner's bufSize). */
const BUFFER_LIMIT = 8 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const FULL_LINE = 0x20;
const CONTINUATION = 0x2b;
const HEX = '0123456789abcdef';

/**
 * A wall clock with microseconds: Date.now() anchored once, then the monotonic performance clock,
 * so one job's timestamps never go backwards.
 */
export function createMicrosClock(): MicrosClock {
  const anchor = Date.now() * 1000 - Math.round(performance.now() * 1000);
  return () => anchor + Math.floor(performance.now() * 1000);
}

/** One output stream's timestamper; `write` returns the bytes ready for the trace. */
export class LineTimestamper {
  readonly #clock: MicrosClock;
  /** The header being filled in: date, '.', microseconds, 'Z', ' ', stream id, type, flag. */
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  #headerSecond = -1;
  #nextFlag = FULL_LINE;
  /** The entry still waiting for its end (header included), as gitlab-runner's buffer. */
  #pending: Buffer[] = [];
  #pendingLength = 0;

  constructor(options: { streamId: number; stderr: boolean; clock: MicrosClock }) {
    this.#clock = options.clock;
    this.#header.write('0000-00-00T00:00:00.000000Z ', 0, 'latin1');
    this.#header[28] = HEX.charCodeAt((options.streamId >> 4) & 0x0f);
    this.#header[29] = HEX.charCodeAt(options.streamId & 0x0f);
    this.#header[30] = options.stderr ? 0x45 : 0x4f;
  }

  /** The timestamped bytes of one write (possibly empty while a line waits for its end). */
  write(data: Buffer): Buffer {
    if (data.length === 0) return data;
    const newlines = newlinesIn(data);
    // Worst case: the pending entry, every byte, one header per line and one more, a '\n' added.
    const out = Buffer.allocUnsafe(
      this.#pendingLength + data.length + HEADER_LENGTH * (newlines.length + 1) + 1,
    );
    let at = 0;
    let from = 0;
    for (const end of newlines) {
      at = this.#startEntry(out, at);
      at += data.copy(out, at, from, end + 1);
      from = end + 1;
    }
    const rest = data.length - from;
    if (rest === 0) return out.subarray(0, at);
    const tail = data.subarray(from);
    // A '\r' is a flush hint, and past the buffer limit the text cannot wait: the whole rest is
    // one entry with a '\n' added, and the next entry continues it.
    if (tail.indexOf(CARRIAGE_RETURN) >= 0 || rest + this.#pendingLength > BUFFER_LIMIT) {
      at = this.#startEntry(out, at);
      at += tail.copy(out, at);
      out[at++] = NEWLINE;
      this.#nextFlag = CONTINUATION;
    } else {
      if (this.#pendingLength === 0) {
        const header = Buffer.allocUnsafe(HEADER_LENGTH);
        this.#writeHeader(header, 0);
        this.#hold(header);
      }
      this.#hold(Buffer.from(tail));
    }
    return out.subarray(0, at);
  }

  /** Ends the stream: a waiting entry is written with a '\n' added. */
  close(): Buffer {
    if (this.#pendingLength === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(this.#pendingLength + 1);
    const at = this.#takePending(out, 0);
    out[at] = NEWLINE;
    return out;
  }

  // The entry's start: the waiting entry (its header already in it), else a fresh header.
  #startEntry(out: Buffer, at: number): number {
    return this.#pendingLength > 0 ? this.#takePending(out, at) : this.#writeHeader(out, at);
  }

  #hold(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingLength += piece.length;
  }

  #takePending(out: Buffer, at: number): number {
    for (const piece of this.#pending) at += piece.copy(out, at);
    this.#pending = [];
    this.#pendingLength = 0;
    return at;
  }

  // Fills the header with the current time and the pending flag, copies it out, resets the flag.
  #writeHeader(out: Buffer, at: number): number {
    const header = this.#header;
    const micros = this.#clock();
    const second = Math.floor(micros / 1_000_000);
    if (second !== this.#headerSecond) {
      header.write(new Date(second * 1000).toISOString().slice(0, 19), 0, 'latin1');
      this.#headerSecond = second;
    }
    let fraction = micros - second * 1_000_000;
    for (let digit = 25; digit >= 20; digit--) {
      header[digit] = 0x30 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    header[31] = this.#nextFlag;
    this.#nextFlag = FULL_LINE;
    return at + header.copy(out, at);
  }
}

// Where the '\n' bytes are (native indexOf hops, no byte loop).
function newlinesIn(data: Buffer): number[] {
  const positions: number[] = [];
  for (let index = data.indexOf(NEWLINE); index >= 0; index = data.indexOf(NEWLINE, index + 1))
    positions.push(index);
  return positions;
}
