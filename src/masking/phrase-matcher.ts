// Finds every occurrence of many byte phrases in one pass (an Aho-Corasick automaton compiled to a
// full transition table), then picks which occurrences to mask with the rule of a chain of
// one-phrase maskers run longest phrase first: a phrase masks its leftmost non-overlapping
// occurrences among the bytes no earlier phrase masked.

/** One occurrence of phrase `phrase` (its rank: 0 is masked first) at bytes [start, end). */
export interface Occurrence {
  start: number;
  end: number;
  phrase: number;
}

/** Phrases shorter than this make skipping pointless: the automaton then reads every byte. */
const MIN_SKIP_LENGTH = 4;

/**
 * A compiled phrase set; immutable, shared by every stream that masks the same values. Occurrences
 * are found by Wu-Manber skipping on two-byte blocks (most windows are ruled out without reading
 * their bytes); the unfinished phrase at the end of a write is found by the Aho-Corasick automaton
 * over the last bytes only. With a very short phrase the automaton scans everything.
 */
export class PhraseMatcher {
  /** The phrases in masking order: longest first, ties in the order given. */
  readonly phrases: readonly Buffer[];
  readonly #automaton: Automaton;
  readonly #skip: SkipTable | undefined;
  readonly #longest: number;

  constructor(phrases: readonly Buffer[]) {
    this.phrases = [...phrases].sort((a, b) => b.length - a.length);
    this.#automaton = buildAutomaton(this.phrases);
    this.#longest = this.phrases[0]?.length ?? 0;
    const shortest = this.phrases.at(-1)?.length ?? 0;
    this.#skip = shortest >= MIN_SKIP_LENGTH ? buildSkipTable(this.phrases, shortest) : undefined;
  }

  /**
   * Every occurrence in `data`, and `pending`: how many bytes at its end could still begin a
   * phrase that more input would complete.
   */
  scan(data: Buffer): { occurrences: Occurrence[]; pending: number } {
    const tailStart = Math.max(0, data.length - this.#longest + 1);
    if (this.#skip === undefined) return this.#automatonScan(data, 0, true);
    return {
      occurrences: this.#skipScan(data, this.#skip),
      pending: this.#automatonScan(data, tailStart, false).pending,
    };
  }

  #skipScan(data: Buffer, table: SkipTable): Occurrence[] {
    const { window, shift, candidates } = table;
    const occurrences: Occurrence[] = [];
    for (let end = window - 1; end < data.length;) {
      const block = ((data[end - 1] as number) << 8) | (data[end] as number);
      const distance = shift[block] as number;
      if (distance > 0) {
        end += distance;
        continue;
      }
      const start = end - window + 1;
      for (const rank of candidates.get(block) ?? []) {
        const phrase = this.phrases[rank] as Buffer;
        if (start + phrase.length <= data.length && matchesAt(data, start, phrase))
          occurrences.push({ start, end: start + phrase.length, phrase: rank });
      }
      end += 1;
    }
    return occurrences;
  }

  #automatonScan(
    data: Buffer,
    from: number,
    collect: boolean,
  ): { occurrences: Occurrence[]; pending: number } {
    const { next, firstAccepting, depth, matches } = this.#automaton;
    const occurrences: Occurrence[] = [];
    let state = 0;
    for (let index = from; index < data.length; index++) {
      state = next[(state << 8) | (data[index] as number)] as number;
      if (collect && state >= firstAccepting) {
        for (const phrase of matches[state - firstAccepting] ?? []) {
          const end = index + 1;
          occurrences.push({ start: end - (this.phrases[phrase] as Buffer).length, end, phrase });
        }
      }
    }
    return { occurrences, pending: depth[state] as number };
  }
}

interface SkipTable {
  /** The shortest phrase length: every phrase's first `window` bytes are what the table knows. */
  window: number;
  /** For a block ending a window, how far the window may move without passing a match. */
  shift: Uint8Array;
  /** Phrases whose first `window` bytes end with the block (checked in full when shift is 0). */
  candidates: Map<number, number[]>;
}

function buildSkipTable(phrases: readonly Buffer[], shortest: number): SkipTable {
  const window = Math.min(shortest, 255);
  const shift = new Uint8Array(65536).fill(window - 1);
  const candidates = new Map<number, number[]>();
  phrases.forEach((phrase, rank) => {
    for (let end = 1; end < window; end++) {
      const block = ((phrase[end - 1] as number) << 8) | (phrase[end] as number);
      shift[block] = Math.min(shift[block] as number, window - 1 - end);
    }
    const last = ((phrase[window - 2] as number) << 8) | (phrase[window - 1] as number);
    candidates.set(last, [...(candidates.get(last) ?? []), rank]);
  });
  return { window, shift, candidates };
}

function matchesAt(data: Buffer, start: number, phrase: Buffer): boolean {
  for (let index = 0; index < phrase.length; index++) if (data[start + index] !== phrase[index]) return false;
  return true;
}

/**
 * The occurrences a longest-first chain of one-phrase maskers would mask, sorted by start and
 * never overlapping: phrase by phrase in rank order, leftmost first, skipping any occurrence that
 * overlaps one already taken.
 */
export function occurrencesToMask(occurrences: readonly Occurrence[]): Occurrence[] {
  if (occurrences.length <= 1) return [...occurrences];
  const byRank = [...occurrences].sort((a, b) => a.phrase - b.phrase || a.start - b.start);
  const taken: Occurrence[] = [];
  let rank = -1;
  let rankEnd = 0;
  for (const occurrence of byRank) {
    if (occurrence.phrase !== rank) {
      rank = occurrence.phrase;
      rankEnd = 0;
    }
    if (occurrence.start < rankEnd || overlapsTaken(taken, occurrence)) continue;
    taken.splice(insertionIndex(taken, occurrence.start), 0, occurrence);
    rankEnd = occurrence.end;
  }
  return taken;
}

/**
 * The offset up to which masking decisions are final: before every byte that may begin an
 * unfinished phrase, and never inside an occurrence that reaches past it (whose fate may still
 * depend on what follows).
 */
export function settledLength(length: number, pending: number, occurrences: readonly Occurrence[]): number {
  let settled = length - pending;
  for (let moved = true; moved;) {
    moved = false;
    for (const occurrence of occurrences) {
      if (occurrence.start < settled && occurrence.end > settled) {
        settled = occurrence.start;
        moved = true;
      }
    }
  }
  return settled;
}

// `taken` is sorted by start and non-overlapping: only the neighbours of the slot can overlap.
function overlapsTaken(taken: readonly Occurrence[], occurrence: Occurrence): boolean {
  const index = insertionIndex(taken, occurrence.start);
  const before = taken[index - 1];
  const after = taken[index];
  return (
    (before !== undefined && before.end > occurrence.start) ||
    (after !== undefined && after.start < occurrence.end)
  );
}

function insertionIndex(taken: readonly Occurrence[], start: number): number {
  let low = 0;
  let high = taken.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((taken[middle] as Occurrence).start < start) low = middle + 1;
    else high = middle;
  }
  return low;
}

interface Automaton {
  next: Uint16Array | Uint32Array;
  firstAccepting: number;
  depth: Uint16Array | Uint32Array;
  matches: number[][];
}

// Trie, failure links by breadth-first search, then a dense table (state × byte). States are
// renumbered so that every accepting state comes last: the scan loop tests one comparison.
function buildAutomaton(phrases: readonly Buffer[]): Automaton {
  const children: Map<number, number>[] = [new Map()];
  const trieDepth: number[] = [0];
  const ends: number[][] = [[]];
  phrases.forEach((phrase, rank) => {
    let state = 0;
    for (const byte of phrase) {
      let child = children[state]?.get(byte);
      if (child === undefined) {
        child = children.length;
        children.push(new Map());
        trieDepth.push((trieDepth[state] as number) + 1);
        ends.push([]);
        children[state]?.set(byte, child);
      }
      state = child;
    }
    ends[state]?.push(rank);
  });

  const count = children.length;
  const dense = new Uint32Array(count * 256);
  const failure = new Uint32Array(count);
  const matches: number[][] = ends.map((list) => [...list]);
  const order: number[] = [0];
  for (const [byte, child] of children[0] ?? []) dense[byte] = child;
  for (let head = 0; head < order.length; head++) {
    const state = order[head] as number;
    for (const [byte, child] of children[state] ?? []) {
      if (state !== 0) failure[child] = dense[(failure[state] as number) * 256 + byte] as number;
      matches[child] = [...(matches[child] ?? []), ...(matches[failure[child] as number] ?? [])];
      order.push(child);
    }
    for (let byte = 0; byte < 256 && state !== 0; byte++) {
      const child = children[state]?.get(byte);
      dense[state * 256 + byte] = child ?? (dense[(failure[state] as number) * 256 + byte] as number);
    }
  }

  const accepting = (state: number): boolean => (matches[state]?.length ?? 0) > 0;
  const renumbered = new Uint32Array(count);
  let nextId = 0;
  for (let state = 0; state < count; state++) if (!accepting(state)) renumbered[state] = nextId++;
  const firstAccepting = nextId;
  for (let state = 0; state < count; state++) if (accepting(state)) renumbered[state] = nextId++;

  const Table = count <= 0xffff ? Uint16Array : Uint32Array;
  const next = new Table(count * 256);
  const depth = new Table(count);
  const acceptingMatches: number[][] = new Array<number[]>(count - firstAccepting);
  for (let state = 0; state < count; state++) {
    const id = renumbered[state] as number;
    depth[id] = trieDepth[state] as number;
    if (id >= firstAccepting)
      acceptingMatches[id - firstAccepting] = (matches[state] ?? []).sort((a, b) => a - b);
    for (let byte = 0; byte < 256; byte++)
      next[id * 256 + byte] = renumbered[dense[state * 256 + byte] as number] as number;
  }
  return { next, firstAccepting, depth, matches: acceptingMatches };
}
