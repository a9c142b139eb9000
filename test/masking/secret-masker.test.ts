import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { createSecretMasker, maskSecrets, maskText } from '../../src/masking/secret-masker.js';

// Pushes `chunks` through a fresh masker and returns everything it wrote.
async function maskChunks(chunks: Buffer[], values: string[], prefixes?: string[]): Promise<string> {
  const masker = createSecretMasker({ values, prefixes });
  const result = buffer(masker);
  for (const chunk of chunks) masker.write(chunk);
  masker.end();
  return (await result).toString('utf8');
}

// Splits `text` into pieces at the given byte offsets.
function splitAt(text: string, offsets: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const cuts = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}

describe('createSecretMasker', () => {
  const secret = 'sUp3r-s3cret_value';

  it('masks a secret split at every possible offset, including one byte per write', async () => {
    const text = `before ${secret} after`;
    for (let first = 0; first <= text.length; first++) {
      for (let second = first; second <= text.length; second += 3) {
        const out = await maskChunks(splitAt(text, [first, second]), [secret]);
        assert.equal(out, 'before [MASKED] after', `split at ${first},${second}`);
      }
    }
    const bytewise = await maskChunks(
      [...Buffer.from(text)].map((byte) => Buffer.from([byte])),
      [secret],
    );
    assert.equal(bytewise, 'before [MASKED] after');
  });

  it('releases a partial match unchanged at the end of the stream', async () => {
    assert.equal(await maskChunks([Buffer.from('tail sUp3r-s3c')], [secret]), 'tail sUp3r-s3c');
  });

  it('holds back nothing once a partial match fails', async () => {
    const masker = createSecretMasker({ values: [secret] });
    const seen: string[] = [];
    masker.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    masker.write('x sUp3r');
    masker.write('-nope ');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.join(''), 'x sUp3r-nope ');
    masker.end();
  });

  it('masks self-overlapping phrases that a naive matcher misses', () => {
    assert.equal(maskText('xaaabx aab', ['aab']), 'xa[MASKED]x [MASKED]');
    assert.equal(maskText('abababac', ['ababac']), 'ab[MASKED]');
  });

  it('masks the longest of overlapping secrets first so a shorter one reveals nothing of it', () => {
    assert.equal(maskText('abcdefgh', ['abc', 'bcdefgh']), 'a[MASKED]');
    assert.equal(maskText('token=abc and abcdef', ['abc', 'abcdef']), 'token=[MASKED] and [MASKED]');
  });

  it('trims values, drops empty ones and masks multi-byte values', () => {
    assert.equal(maskText('a pässwörd→x b', ['  pässwörd→x\n', '', '   ']), 'a [MASKED] b');
  });

  it('keeps token prefixes visible and masks the token characters after them', () => {
    assert.equal(maskText('use glpat-AbC_12.3=x-y now', []), 'use glpat-[MASKED] now');
    assert.equal(maskText('glrtr-abc glrt-def glcbt-1', []), 'glrtr-[MASKED] glrt-[MASKED] glcbt-[MASKED]');
    assert.equal(maskText('cookie _gitlab_session=f00d;', []), 'cookie _gitlab_session=[MASKED];');
    assert.equal(maskText('glpat- alone', []), 'glpat- alone');
    assert.equal(maskText('mytok-secret1 other', [], ['mytok-']), 'mytok-[MASKED] other');
  });

  it('masks a token prefix and its token split across writes', async () => {
    const text = 'see glrtr-Zz9_x.y and more';
    for (let cut = 0; cut <= text.length; cut++) {
      assert.equal(
        await maskChunks(splitAt(text, [cut]), []),
        'see glrtr-[MASKED] and more',
        `cut at ${cut}`,
      );
    }
  });

  it('masks sensitive URL parameters case-insensitively up to the next delimiter', () => {
    assert.equal(
      maskText('GET /x?private_token=abc123&X-Amz-Signature=deadbeef&page=2 ok', []),
      'GET /x?private_token=[MASKED]&X-Amz-Signature=[MASKED]&page=2 ok',
    );
  });

  it('flushes held bytes when the stream ends', async () => {
    const masker = createSecretMasker({ values: [secret] });
    const out = buffer(masker);
    masker.end(Buffer.from('end with sUp3r'));
    assert.equal((await out).toString(), 'end with sUp3r');
  });

  it('gives the same output for any chunking as for the whole text, and never leaks a secret', async () => {
    const secretArb = fc.string({
      unit: fc.constantFrom('a', 'b', 'c', '-', 'é', '$'),
      minLength: 3,
      maxLength: 10,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(secretArb, { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.oneof(
            fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'g', 'l', 'p', 't', '-', 'é') }),
            fc.constant('glpat-'),
          ),
          { maxLength: 8 },
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (secrets, noise, cuts) => {
          const text = noise
            .flatMap((piece, index) => [piece, secrets[index % secrets.length] ?? ''])
            .join('');
          const whole = maskText(text, secrets);
          const streamed = await maskChunks(splitAt(text, cuts), secrets);
          assert.equal(streamed, whole);
          for (const value of secrets)
            assert.ok(
              !streamed.includes(value),
              `${JSON.stringify(value)} leaked in ${JSON.stringify(streamed)}`,
            );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('works as a stream in a pipeline', async () => {
    const out = await buffer(
      Readable.from([Buffer.from('a sec'), Buffer.from('ret-123 b')]).pipe(
        createSecretMasker({ values: ['secret-123'] }),
      ),
    );
    assert.equal(out.toString(), 'a [MASKED] b');
  });
});

describe('maskSecrets', () => {
  it('masks the given values longest first and leaves URL parameters and token prefixes visible', () => {
    const text = 'token abcd-efgh, part abcd, url /x?private_token=abc glpat-123';
    assert.equal(
      maskSecrets(text, ['abcd', 'abcd-efgh']),
      'token [MASKED], part [MASKED], url /x?private_token=abc glpat-123',
    );
  });

  it('returns the very text it was given when nothing is masked', () => {
    const text = 'nothing secret \ud800 here';
    assert.equal(maskSecrets(text, ['absent-value']), text);
    assert.equal(maskSecrets(text, []), text);
    assert.equal(maskSecrets('a  b', ['', ' ']), 'a  b');
  });
});
