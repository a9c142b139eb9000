// The streaming stages of the secret masker. Each takes bytes and returns the bytes it can already
// release; it holds back a possible match across writes and releases it unchanged at the end. A
// write that masks nothing returns its input (or a view of it): no copy on the common path.
import { occurrencesToMask, settledLength, type Occurrence, type PhraseMatcher } from './phrase-matcher.js';

export const MASKED = Buffer.from('[MASKED]');
const EMPTY = Buffer.alloc(0);

export interface MaskingStage {
  write(data: Buffer): Buffer;
  end(): Buffer;
}

/** How a phrase stage finds occurrences: native `indexOf` per phrase, or one automaton pass. */
export interface PhraseFinder {
  find(data: Buffer): { occurrences: Occurrence[]; pending: number };
}

/** Few phrases: one native `indexOf` pass each, and the KMP table for a partial match at the end. */
export class IndexOfFinder implements PhraseFinder {
  readonly #phrases: readonly Buffer[];
  readonly #failures: readonly Int32Array[];

  constructor(phrases: readonly Buffer[]) {
    this.#phrases = [...phrases].sort((a, b) => b.length - a.length);
    this.#failures = this.#phrases.map(failureTable);
  }

  find(data: Buffer): { occurrences: Occurrence[]; pending: number } {
    const occurrences: Occurrence[] = [];
    let pending = 0;
    this.#phrases.forEach((phrase, rank) => {
      for (let found = data.indexOf(phrase); found >= 0; found = data.indexOf(phrase, found + 1))
        occurrences.push({ start: found, end: found + phrase.length, phrase: rank });
      pending = Math.max(pending, partialMatchAtEnd(data, phrase, this.#failures[rank] as Int32Array));
    });
    return { occurrences, pending };
  }
}

/** The automaton as a finder. */
export class AutomatonFinder implements PhraseFinder {
  constructor(private readonly matcher: PhraseMatcher) {}

  find(data: Buffer): { occurrences: Occurrence[]; pending: number } {
    return this.matcher.scan(data);
  }
}

/**
 * Masks every phrase of a set in one stage, with the result of one masker per phrase chained
 * longest first: a phrase masks its leftmost non-overlapping occurrences among unmasked bytes.
 */
export class PhraseStage implements MaskingStage {
  #held: Buffer = EMPTY;

  constructor(private readonly finder: PhraseFinder) {}

  write(data: Buffer): Buffer {
    return this.#mask(this.#held.length > 0 ? Buffer.concat([this.#held, data]) : data, false);
  }

  end(): Buffer {
    return this.#mask(this.#held, true);
  }

  #mask(buffer: Buffer, final: boolean): Buffer {
    const { occurrences, pending } = this.finder.find(buffer);
    const settled = final ? buffer.length : settledLength(buffer.length, pending, occurrences);
    this.#held = settled < buffer.length ? Buffer.from(buffer.subarray(settled)) : EMPTY;
    const masked = occurrencesToMask(occurrences.filter((occurrence) => occurrence.end <= settled));
    if (masked.length === 0) return settled === buffer.length ? buffer : buffer.subarray(0, settled);
    const out: Buffer[] = [];
    let position = 0;
    for (const occurrence of masked) {
      out.push(buffer.subarray(position, occurrence.start), MASKED);
      position = occurrence.end;
    }
    out.push(buffer.subarray(position, settled));
    return Buffer.concat(out);
  }
}

/**
 * The leaders a run stage looks for, compiled once per rule set. Leaders are found with native
 * `indexOf` on their first bytes (both cases when case-insensitive), then compared in full.
 */
export class RunRule {
  /** Longest first, so the first that matches at a position is the longest there. */
  readonly #leaders: readonly Buffer[];
  /** The leaders by their first byte (longest first). */
  readonly #leadersByFirstByte: (Buffer[] | undefined)[] = [];
  /** What a leader can start with: one byte (both cases when case-insensitive) or its first two. */
  readonly #anchors: readonly (number | Buffer)[];

  constructor(
    leaders: readonly string[],
    readonly caseInsensitive: boolean,
    readonly isRunByte: (byte: number) => boolean,
  ) {
    this.#leaders = leaders
      .filter((leader) => leader !== '')
      .map((leader) => Buffer.from(caseInsensitive ? leader.toLowerCase() : leader, 'utf8'))
      .sort((a, b) => b.length - a.length);
    for (const leader of this.#leaders) (this.#leadersByFirstByte[leader[0] as number] ??= []).push(leader);
    const anchors = new Map<string, number | Buffer>();
    for (const leader of this.#leaders) {
      const heads: (number | Buffer)[] =
        caseInsensitive || leader.length === 1
          ? [leader[0] as number, caseInsensitive ? upperAscii(leader[0] as number) : (leader[0] as number)]
          : [leader.subarray(0, 2)];
      for (const head of heads)
        anchors.set(String(typeof head === 'number' ? head : head.toString('hex')), head);
    }
    this.#anchors = [...anchors.values()];
  }

  get longestLeader(): number {
    return this.#leaders[0]?.length ?? 0;
  }

  /** The leftmost leader at or after `from` (the longest one there), or undefined. */
  find(buffer: Buffer, from: number): { index: number; length: number } | undefined {
    const anchors = this.#anchors;
    const next = anchors.map((anchor) => buffer.indexOf(anchor, from));
    for (;;) {
      let index = -1;
      for (const position of next) if (position >= 0 && (index < 0 || position < index)) index = position;
      if (index < 0) return undefined;
      const length = this.#leaderLengthAt(buffer, index);
      if (length > 0) return { index, length };
      for (let anchor = 0; anchor < next.length; anchor++)
        if (next[anchor] === index)
          next[anchor] = buffer.indexOf(anchors[anchor] as number | Buffer, index + 1);
    }
  }

  // The longest leader starting at `index`, or 0. Most anchor hits fail on the second byte.
  #leaderLengthAt(buffer: Buffer, index: number): number {
    const first = buffer[index] as number;
    const second = buffer[index + 1];
    const candidates = this.#leadersByFirstByte[this.caseInsensitive ? lowerAscii(first) : first];
    if (candidates === undefined) return 0;
    const secondByte = second === undefined ? -1 : this.caseInsensitive ? lowerAscii(second) : second;
    for (const candidate of candidates) {
      if (candidate.length > 1 && candidate[1] !== secondByte) continue;
      if (
        index + candidate.length <= buffer.length &&
        this.#matchesAt(buffer, index, candidate, candidate.length)
      )
        return candidate.length;
    }
    return 0;
  }

  /** The first position at or after `from` where the buffer's end is a proper prefix of a leader. */
  partialStart(buffer: Buffer, from: number): number {
    for (let start = Math.max(from, buffer.length - this.longestLeader + 1); start < buffer.length; start++) {
      const rest = buffer.length - start;
      if (
        this.#leaders.some((leader) => leader.length > rest && this.#matchesAt(buffer, start, leader, rest))
      )
        return start;
    }
    return -1;
  }

  #matchesAt(buffer: Buffer, start: number, leader: Buffer, length: number): boolean {
    for (let offset = 0; offset < length; offset++) {
      const byte = buffer[start + offset] as number;
      if ((this.caseInsensitive ? lowerAscii(byte) : byte) !== leader[offset]) return false;
    }
    return true;
  }
}

/**
 * Masks the run of bytes that follows a leader (a token prefix, or `?private_token=`), keeping the
 * leader visible. A possible leader at the end of a write is held back until the next write
 * decides it.
 */
export class RunMasker implements MaskingStage {
  #held: Buffer = EMPTY;
  #inRun = false;
  #runLength = 0;

  constructor(private readonly rule: RunRule) {}

  write(data: Buffer): Buffer {
    return this.#scan(this.#held.length > 0 ? Buffer.concat([this.#held, data]) : data, false);
  }

  end(): Buffer {
    const out = this.#scan(this.#held, true);
    return Buffer.concat([out, this.#closeRun()]);
  }

  #scan(buffer: Buffer, final: boolean): Buffer {
    this.#held = EMPTY;
    const { rule } = this;
    const out: Buffer[] = [];
    let emitFrom = 0;
    let index = 0;
    while (index < buffer.length) {
      if (this.#inRun) {
        while (index < buffer.length && rule.isRunByte(buffer[index] ?? 0)) index += 1;
        this.#runLength += index - emitFrom;
        emitFrom = index;
        if (index === buffer.length) break;
        out.push(this.#closeRun());
      }
      const match = rule.find(buffer, index);
      const partial = final ? -1 : rule.partialStart(buffer, index);
      if (partial >= 0 && (match === undefined || partial <= match.index)) {
        this.#held = Buffer.from(buffer.subarray(partial));
        out.push(buffer.subarray(emitFrom, partial));
        return joined(out);
      }
      if (match === undefined) break;
      index = match.index + match.length;
      out.push(buffer.subarray(emitFrom, index));
      emitFrom = index;
      this.#inRun = true;
      this.#runLength = 0;
    }
    if (emitFrom === 0 && out.length === 0) return buffer;
    out.push(buffer.subarray(emitFrom));
    return joined(out);
  }

  // Ends a run: `[MASKED]` stands for the token bytes that were swallowed.
  #closeRun(): Buffer {
    const out = this.#inRun && this.#runLength > 0 ? MASKED : EMPTY;
    this.#inRun = false;
    this.#runLength = 0;
    return out;
  }
}

function lowerAscii(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

function upperAscii(byte: number): number {
  return byte >= 0x61 && byte <= 0x7a ? byte & ~0x20 : byte;
}

function joined(pieces: Buffer[]): Buffer {
  const nonEmpty = pieces.filter((piece) => piece.length > 0);
  if (nonEmpty.length === 0) return EMPTY;
  return nonEmpty.length === 1 ? (nonEmpty[0] as Buffer) : Buffer.concat(nonEmpty);
}

// Length of the longest phrase prefix that ends `buffer`.
function partialMatchAtEnd(buffer: Buffer, phrase: Buffer, failure: Int32Array): number {
  let matched = 0;
  for (let index = Math.max(0, buffer.length - phrase.length + 1); index < buffer.length; index++) {
    const byte = buffer[index];
    while (matched > 0 && byte !== phrase[matched]) matched = failure[matched - 1] ?? 0;
    if (byte === phrase[matched]) matched += 1;
  }
  return matched;
}

// KMP failure function: for each prefix length, the longest proper border.
function failureTable(phrase: Buffer): Int32Array {
  const table = new Int32Array(phrase.length);
  let border = 0;
  for (let index = 1; index < phrase.length; index++) {
    while (border > 0 && phrase[index] !== phrase[border]) border = table[border - 1] ?? 0;
    if (phrase[index] === phrase[border]) border += 1;
    table[index] = border;
  }
  return table;
}
