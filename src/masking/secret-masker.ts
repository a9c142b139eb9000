// The one secret masker: the job trace, the runner's log and API error texts all mask through it
// (job-execution §8). A chain of streaming stages, as in gitlab-runner: the secrets (with the
// result of one phrase masker per secret, longest first, found in one pass), then the URL parameter
// sanitizer, then the token-prefix sanitizer. Each stage holds back the bytes of a possible match
// across writes and releases them unchanged at the end. The compiled rules (automaton, regexes) are
// built once per secret list and shared.
import { Transform, type TransformCallback } from 'node:stream';
import {
  AutomatonFinder,
  IndexOfFinder,
  PhraseStage,
  RunMasker,
  RunRule,
  type MaskingStage,
  type PhraseFinder,
} from './masking-stages.js';
import { PhraseMatcher } from './phrase-matcher.js';

const MAX_PREFIXES = 15;
/** Up to this many secrets, one native `indexOf` pass each beats the automaton. */
const INDEX_OF_PHRASES = 3;

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
  const stages = maskingStages(rulesFor(input.values, input.prefixes ?? []));
  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback) {
      const output = stages.reduce<Buffer>(
        (data, stage) => stage.write(data),
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk),
      );
      callback(null, output.length > 0 ? output : undefined);
    },
    flush(callback: TransformCallback) {
      const output = finish(stages, Buffer.alloc(0));
      callback(null, output.length > 0 ? output : undefined);
    },
  });
}

/** Masks one complete text (a runner line of the trace) with the same rules as the stream. */
export function maskText(text: string, values: string[], prefixes: string[] = []): string {
  const stages = maskingStages(rulesFor(values, prefixes));
  return finish(stages, Buffer.from(text, 'utf8')).toString('utf8');
}

/**
 * Masks only the given values (trimmed, longest first) in one complete text: for the runner's own
 * log and for error texts, which carry no job output and so get no URL or token-prefix rules.
 * Returns `text` itself when nothing is masked.
 */
export function maskSecrets(text: string, values: readonly string[]): string {
  const { phrases } = rulesFor(values, []);
  if (phrases === undefined) return text;
  const input = Buffer.from(text, 'utf8');
  const output = finish([new PhraseStage(phrases)], input);
  return output.equals(input) ? text : output.toString('utf8');
}

// Pushes the last bytes through every stage and ends each one in turn.
function finish(stages: MaskingStage[], data: Buffer): Buffer {
  return stages.reduce<Buffer>((input, stage) => concatTwo(stage.write(input), stage.end()), data);
}

// Everything a masker needs that does not change while it runs; built once per secret list.
interface MaskingRules {
  phrases: PhraseFinder | undefined;
  urlParameters: RunRule;
  tokenPrefixes: RunRule;
}

// The last rule set per values array: a job masks every runner line with the same two arrays.
const compiledRules = new WeakMap<readonly string[], { prefixes: readonly string[]; rules: MaskingRules }>();

function rulesFor(values: readonly string[], extraPrefixes: readonly string[]): MaskingRules {
  const cached = compiledRules.get(values);
  if (cached !== undefined && sameStrings(cached.prefixes, extraPrefixes)) return cached.rules;
  const rules = compileRules(values, extraPrefixes);
  compiledRules.set(values, { prefixes: [...extraPrefixes], rules });
  return rules;
}

function compileRules(values: readonly string[], extraPrefixes: readonly string[]): MaskingRules {
  const phrases = [...new Set(values.map((value) => value.trim()).filter((value) => value !== ''))].map(
    (value) => Buffer.from(value, 'utf8'),
  );
  const prefixes = [
    ...new Set([
      ...DEFAULT_TOKEN_PREFIXES.slice(0, 1),
      ...extraPrefixes.filter((p) => p !== ''),
      ...DEFAULT_TOKEN_PREFIXES,
    ]),
  ].slice(0, MAX_PREFIXES);
  return {
    phrases:
      phrases.length === 0
        ? undefined
        : phrases.length <= INDEX_OF_PHRASES
          ? new IndexOfFinder(phrases)
          : new AutomatonFinder(new PhraseMatcher(phrases)),
    urlParameters: new RunRule(
      URL_PARAMETERS.flatMap((name) => [`?${name}=`, `&${name}=`]),
      true,
      (byte) => byte > 0x20 && byte !== 0x7f && byte !== 0x3f && byte !== 0x26,
    ),
    tokenPrefixes: new RunRule(prefixes, false, isTokenByte),
  };
}

// The stage chain in gitlab-runner's order, with fresh per-stream state.
function maskingStages(rules: MaskingRules): MaskingStage[] {
  return [
    ...(rules.phrases === undefined ? [] : [new PhraseStage(rules.phrases)]),
    new RunMasker(rules.urlParameters),
    new RunMasker(rules.tokenPrefixes),
  ];
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function concatTwo(first: Buffer, second: Buffer): Buffer {
  if (second.length === 0) return first;
  return first.length === 0 ? second : Buffer.concat([first, second]);
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
