// The single-pass masker against the masker it replaced (test/support/legacy-masking.ts): same
// output on random texts and secret lists, for the whole text and for every chunk split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { createSecretMasker, maskText } from '../../src/masking/secret-masker.js';
import * as legacy from '../support/legacy-masking.js';

type MaskerFactory = (input: { values: string[]; prefixes?: string[] }) => NodeJS.ReadWriteStream;

async function maskChunks(factory: MaskerFactory, chunks: Buffer[], values: string[]): Promise<string> {
  const masker = factory({ values });
  const result = buffer(masker);
  for (const chunk of chunks) masker.write(chunk);
  masker.end();
  return (await result).toString('utf8');
}

// Secrets from a small alphabet so they overlap each other and the noise often; none contains a
// character of `[MASKED]` (the old chain could match a later secret across an inserted marker).
// Secrets of 4 bytes and more take the skipping search; a list with a shorter one, the automaton.
const secretArb = fc.string({
  unit: fc.constantFrom('a', 'b', 'c', '-', 'é', '$'),
  minLength: 1,
  maxLength: 8,
});
const longSecretsArb = (maxLength: number) =>
  fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '-', 'é'), minLength: 4, maxLength: 12 }), {
    minLength: 1,
    maxLength,
  });
const noiseArb = fc.array(
  fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'g', 'l', 'p', 't', '-', 'é', '\n', '=') }),
    fc.constantFrom('glpat-', 'glrt', '?private_token=', '&X-Amz-Signature=', 'ab', 'abc'),
  ),
  { maxLength: 10 },
);

function textOf(secrets: string[], noise: string[]): string {
  return noise.flatMap((piece, index) => [piece, secrets[(index * 7) % secrets.length] ?? '']).join('');
}

describe('single-pass masker against the legacy chain', () => {
  it('masks whole texts exactly as the chain of one masker per secret', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.array(secretArb, { minLength: 1, maxLength: 12 }), longSecretsArb(12)),
        noiseArb,
        (secrets, noise) => {
          const text = textOf(secrets, noise);
          assert.equal(maskText(text, secrets), legacy.maskText(text, secrets));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('gives the legacy output at every single chunk split and byte by byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(secretArb, { minLength: 1, maxLength: 8 }),
        noiseArb,
        async (secrets, noise) => {
          const bytes = Buffer.from(textOf(secrets, noise), 'utf8');
          const expected = legacy.maskText(bytes.toString('utf8'), secrets);
          for (let cut = 0; cut <= bytes.length; cut++) {
            const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
            assert.equal(await maskChunks(createSecretMasker, chunks, secrets), expected, `cut at ${cut}`);
          }
          const bytewise = [...bytes].map((byte) => Buffer.from([byte]));
          assert.equal(await maskChunks(createSecretMasker, bytewise, secrets), expected);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('agrees with the legacy stream on random multi-chunk splits of many secrets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.array(secretArb, { minLength: 4, maxLength: 40 }), longSecretsArb(40)),
        noiseArb,
        fc.array(fc.nat(), { maxLength: 8 }),
        async (secrets, noise, cuts) => {
          const bytes = Buffer.from(textOf(secrets, noise), 'utf8');
          const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...offsets].map((start, index) =>
            bytes.subarray(start, offsets[index] ?? bytes.length),
          );
          assert.equal(
            await maskChunks(createSecretMasker, chunks, secrets),
            await maskChunks(legacy.createSecretMasker, chunks, secrets),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
