// Secret masking for everything written to the job trace (job-execution §8). A chain of streaming
// stages, as in gitlab-runner: one phrase masker per secret (longest first), then the URL
// parameter sanitizer, then the token-prefix sanitizer. Each stage holds back the bytes of a
// possible match across writes and releases them unchanged at the end.
import { Transform, type TransformCallback } from 'node:stream';
import type { JobPayload, JobVariable } from '../gitlab/payload.js';

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
 * Replaces every non-overlapping occurrence of one phrase, scanning left to right (KMP). The held
 * bytes are exactly the longest phrase prefix that ends the input so far, so a phrase split at any
 * offset across writes is still caught.
 */
class PhraseMasker implements MaskingStage {
  private readonly failure: number[];
  private held = Buffer.alloc(0);

  constructor(private readonly phrase: Buffer) {
    this.failure = failureTable(phrase);
  }

  write(data: Buffer): Buffer {
    // Re-scanning the held prefix from state 0 lands in the same state, since it is a phrase prefix.
    const buffer = this.held.length > 0 ? Buffer.concat([this.held, data]) : data;
    const first = this.phrase[0] ?? 0;
    const out: Buffer[] = [];
    let emitFrom = 0;
    let matched = 0;
    let index = 0;
    while (index < buffer.length) {
      if (matched === 0) {
        index = buffer.indexOf(first, index);
        if (index < 0) break;
      }
      const byte = buffer[index];
      while (matched > 0 && byte !== this.phrase[matched]) matched = this.failure[matched - 1] ?? 0;
      if (byte === this.phrase[matched]) matched += 1;
      index += 1;
      if (matched === this.phrase.length) {
        out.push(buffer.subarray(emitFrom, index - matched), MASKED);
        emitFrom = index;
        matched = 0;
      }
    }
    out.push(buffer.subarray(emitFrom, buffer.length - matched));
    this.held = Buffer.from(buffer.subarray(buffer.length - matched));
    return Buffer.concat(out);
  }

  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
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
 * leader visible. A possible leader at the end of a write is held back until the next one decides it.
 */
class RunMasker implements MaskingStage {
  private readonly leaders: Buffer[];
  private readonly firstBytes: Set<number>;
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
      .map((leader) => Buffer.from(options.caseInsensitive ? leader.toLowerCase() : leader, 'utf8'))
      .sort((a, b) => b.length - a.length);
    this.firstBytes = new Set(this.leaders.flatMap((leader) => (leader.length > 0 ? [leader[0] ?? 0] : [])));
  }

  write(data: Buffer): Buffer {
    return this.scan(this.held.length > 0 ? Buffer.concat([this.held, data]) : data, false);
  }

  end(): Buffer {
    const out = this.scan(this.held, true);
    const closing = this.closeRun();
    return Buffer.concat([out, closing]);
  }

  private scan(buffer: Buffer, final: boolean): Buffer {
    this.held = Buffer.alloc(0);
    const out: Buffer[] = [];
    let emitFrom = 0;
    let index = 0;
    while (index < buffer.length) {
      const byte = buffer[index] ?? 0;
      if (this.inRun) {
        if (this.options.isRunByte(byte)) {
          this.runLength += 1;
          index += 1;
          emitFrom = index;
          continue;
        }
        out.push(this.closeRun());
      }
      if (!this.firstBytes.has(this.fold(byte))) {
        index += 1;
        continue;
      }
      const leader = this.leaderAt(buffer, index, final);
      if (leader === 'undecided') {
        this.held = Buffer.from(buffer.subarray(index));
        out.push(buffer.subarray(emitFrom, index));
        return Buffer.concat(out);
      }
      if (leader > 0) {
        index += leader;
        out.push(buffer.subarray(emitFrom, index));
        emitFrom = index;
        this.inRun = true;
        this.runLength = 0;
        continue;
      }
      index += 1;
    }
    out.push(buffer.subarray(emitFrom));
    return Buffer.concat(out);
  }

  // Length of the longest leader at `index`; 'undecided' while a longer one may still complete.
  private leaderAt(buffer: Buffer, index: number, final: boolean): number | 'undecided' {
    const available = buffer.length - index;
    for (const leader of this.leaders) {
      const compared = Math.min(leader.length, available);
      let same = true;
      for (let offset = 0; offset < compared && same; offset++)
        same = this.fold(buffer[index + offset] ?? 0) === leader[offset];
      if (!same) continue;
      if (compared === leader.length) return leader.length;
      if (!final) return 'undecided';
    }
    return 0;
  }

  // Ends a run: `[MASKED]` stands for the token bytes that were swallowed.
  private closeRun(): Buffer {
    const out = this.inRun && this.runLength > 0 ? MASKED : Buffer.alloc(0);
    this.inRun = false;
    this.runLength = 0;
    return out;
  }

  private fold(byte: number): number {
    return this.options.caseInsensitive && byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
  }
}
