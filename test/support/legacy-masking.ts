// The masker as it was before the single-pass rewrite (issue #16), kept unchanged as the oracle for
// the property tests in test/masking/secret-masker-oracle.test.ts and as the baseline of bench/masking.ts.
import { Transform, type TransformCallback } from 'node:stream';
import type { JobPayload, JobVariable } from '../../src/model/payload.js';

const MASKED = Buffer.from('[MASKED]');
const MAX_PREFIXES = 15;

/** Token prefixes masked in every job (`glpat-` always; the rest with FF_MASK_ALL_DEFAULT_TOKENS). */
export const DEFAULT_TOKEN_PREFIXES: readonly string[] = [
  'glpat-',
  'gloas-',
  'gldt-',
  'glrt-',
  'glcbt-',
  'glrtr-',
  'glptt-',
  'glft-',
  'glimt-',
  'glagent-',
  'glsoat-',
  'glffct-',
  '_gitlab_session=',
  'gltok-',
];

const URL_PARAMETERS = [
  'private_token',
  'authenticity_token',
  'rss_token',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
];

/**
 * A Buffer-in, Buffer-out stream that masks `values` exactly (trimmed, longest first) with
 * `[MASKED]`, masks sensitive URL parameters, and masks what follows a token prefix while keeping
 * the prefix visible (`glpat-[MASKED]`). `prefixes` are added to the defaults (at most 15 in all).
 */
export function createSecretMasker(input: { values: string[]; prefixes?: string[] }): Transform {
  const stages = maskingStages(input.values, input.prefixes ?? []);
  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback) {
      const output = stages.reduce(
        (data, stage) => stage.write(data),
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk),
      );
      callback(null, output.length > 0 ? output : undefined);
    },
    flush(callback: TransformCallback) {
      const output = stages.reduce(
        (data, stage) => Buffer.concat([stage.write(data), stage.end()]),
        Buffer.alloc(0),
      );
      callback(null, output.length > 0 ? output : undefined);
    },
  });
}

/** Masks one complete text (a log field, an error message) with the same rules as the stream. */
export function maskText(text: string, values: string[], prefixes: string[] = []): string {
  const stages = maskingStages(values, prefixes);
  const output = stages.reduce(
    (data, stage) => Buffer.concat([stage.write(data), stage.end()]),
    Buffer.from(text, 'utf8'),
  );
  return output.toString('utf8');
}

/**
 * The values to mask for a job: every `masked` variable (after expansion) plus the job token and
 * the dependency tokens, which are secrets whether or not GitLab flagged a variable for them.
 */
export function maskedValuesOf(job: JobPayload, variables: JobVariable[]): string[] {
  const values = variables.filter((variable) => variable.masked).map((variable) => variable.value);
  return [...values, job.token, ...job.dependencies.map((dependency) => dependency.token)].filter(
    (value) => value.trim() !== '',
  );
}

/** The extra token prefixes the job asks for (`features.token_mask_prefixes`). */
export function maskPrefixesOf(job: JobPayload): string[] {
  return job.features.token_mask_prefixes ?? [];
}

interface MaskingStage {
  write(data: Buffer): Buffer;
  end(): Buffer;
}

// The stage chain in gitlab-runner's order.
function maskingStages(values: string[], extraPrefixes: string[]): MaskingStage[] {
  const phrases = [...new Set(values.map((value) => value.trim()).filter((value) => value !== ''))]
    .map((value) => Buffer.from(value, 'utf8'))
    .sort((a, b) => b.length - a.length);
  const prefixes = [
    ...new Set([
      ...DEFAULT_TOKEN_PREFIXES.slice(0, 1),
      ...extraPrefixes.filter((p) => p !== ''),
      ...DEFAULT_TOKEN_PREFIXES,
    ]),
  ].slice(0, MAX_PREFIXES);
  return [
    ...phrases.map((phrase) => new PhraseMasker(phrase)),
    new RunMasker({
      leaders: URL_PARAMETERS.flatMap((name) => [`?${name}=`, `&${name}=`]),
      caseInsensitive: true,
      isRunByte: (byte) => byte > 0x20 && byte !== 0x7f && byte !== 0x3f && byte !== 0x26,
    }),
    new RunMasker({ leaders: prefixes, caseInsensitive: false, isRunByte: isTokenByte }),
  ];
}

// [A-Za-z0-9._=-]: the characters of a token after its prefix.
function isTokenByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x3d ||
    byte === 0x2d
  );
}

/**
 * Replaces every non-overlapping occurrence of one phrase, leftmost first (native `indexOf`). The
 * held bytes are the longest phrase prefix that ends the input so far, found with the KMP table,
 * so a phrase split at any offset across writes is still caught.
 */
class PhraseMasker implements MaskingStage {
  private readonly failure: number[];
  private held = Buffer.alloc(0);

  constructor(private readonly phrase: Buffer) {
    this.failure = failureTable(phrase);
  }

  write(data: Buffer): Buffer {
    const buffer = this.held.length > 0 ? Buffer.concat([this.held, data]) : data;
    const out: Buffer[] = [];
    let position = 0;
    for (
      let found = buffer.indexOf(this.phrase, position);
      found >= 0;
      found = buffer.indexOf(this.phrase, position)
    ) {
      out.push(buffer.subarray(position, found), MASKED);
      position = found + this.phrase.length;
    }
    const tail = this.partialMatchAtEnd(buffer, position);
    out.push(buffer.subarray(position, buffer.length - tail));
    this.held = Buffer.from(buffer.subarray(buffer.length - tail));
    return Buffer.concat(out);
  }

  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  // Length of the longest phrase prefix that ends `buffer` (no full match lies in the scanned window).
  private partialMatchAtEnd(buffer: Buffer, from: number): number {
    let matched = 0;
    for (let index = Math.max(from, buffer.length - this.phrase.length + 1); index < buffer.length; index++) {
      const byte = buffer[index];
      while (matched > 0 && byte !== this.phrase[matched]) matched = this.failure[matched - 1] ?? 0;
      if (byte === this.phrase[matched]) matched += 1;
    }
    return matched;
  }
}

// KMP failure function: for each prefix length, the longest proper border.
function failureTable(phrase: Buffer): number[] {
  const table = new Array<number>(phrase.length).fill(0);
  let border = 0;
  for (let index = 1; index < phrase.length; index++) {
    while (border > 0 && phrase[index] !== phrase[border]) border = table[border - 1] ?? 0;
    if (phrase[index] === phrase[border]) border += 1;
    table[index] = border;
  }
  return table;
}

/**
 * Masks the run of bytes that follows a leader (a token prefix, or `?private_token=`), keeping the
 * leader visible. Leaders are found by one native regex over the bytes read as latin1 (one char
 * per byte). A possible leader at the end of a write is held back until the next write decides it.
 */
class RunMasker implements MaskingStage {
  private readonly leaders: string[];
  private readonly pattern: RegExp;
  private held = Buffer.alloc(0);
  private inRun = false;
  private runLength = 0;

  constructor(
    private readonly options: {
      leaders: string[];
      caseInsensitive: boolean;
      isRunByte: (byte: number) => boolean;
    },
  ) {
    this.leaders = options.leaders
      .filter((leader) => leader !== '')
      .map((leader) =>
        Buffer.from(options.caseInsensitive ? leader.toLowerCase() : leader, 'utf8').toString('latin1'),
      )
      .sort((a, b) => b.length - a.length);
    const alternatives = this.leaders.map((leader) => leader.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = new RegExp(
      alternatives.length > 0 ? alternatives.join('|') : '(?!)',
      options.caseInsensitive ? 'gi' : 'g',
    );
  }

  write(data: Buffer): Buffer {
    return this.scan(this.held.length > 0 ? Buffer.concat([this.held, data]) : data, false);
  }

  end(): Buffer {
    const out = this.scan(this.held, true);
    return Buffer.concat([out, this.closeRun()]);
  }

  private scan(buffer: Buffer, final: boolean): Buffer {
    this.held = Buffer.alloc(0);
    const text = buffer.toString('latin1');
    const out: Buffer[] = [];
    let emitFrom = 0;
    let index = 0;
    while (index < buffer.length) {
      if (this.inRun) {
        while (index < buffer.length && this.options.isRunByte(buffer[index] ?? 0)) index += 1;
        this.runLength += index - emitFrom;
        emitFrom = index;
        if (index === buffer.length) break;
        out.push(this.closeRun());
      }
      this.pattern.lastIndex = index;
      const match = this.pattern.exec(text);
      const partial = final ? -1 : this.partialLeaderStart(text, index);
      if (partial >= 0 && (match === null || partial <= match.index)) {
        this.held = Buffer.from(buffer.subarray(partial));
        out.push(buffer.subarray(emitFrom, partial));
        return Buffer.concat(out);
      }
      if (match === null) break;
      index = match.index + match[0].length;
      out.push(buffer.subarray(emitFrom, index));
      emitFrom = index;
      this.inRun = true;
      this.runLength = 0;
    }
    out.push(buffer.subarray(emitFrom));
    return Buffer.concat(out);
  }

  // The first position (at or after `from`) where the text's end is a proper prefix of a leader.
  private partialLeaderStart(text: string, from: number): number {
    const first = Math.max(from, text.length - (this.leaders[0]?.length ?? 0) + 1);
    const tail = this.options.caseInsensitive ? text.slice(first).toLowerCase() : text.slice(first);
    for (let start = first; start < text.length; start++) {
      const rest = tail.slice(start - first);
      if (this.leaders.some((leader) => leader.length > rest.length && leader.startsWith(rest))) return start;
    }
    return -1;
  }

  // Ends a run: `[MASKED]` stands for the token bytes that were swallowed.
  private closeRun(): Buffer {
    const out = this.inRun && this.runLength > 0 ? MASKED : Buffer.alloc(0);
    this.inRun = false;
    this.runLength = 0;
    return out;
  }
}
