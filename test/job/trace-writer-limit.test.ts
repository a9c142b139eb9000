// Past the output limit the trace keeps nothing, so the writer stops masking (issue #16).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceBuffer } from '../../src/gitlab/trace-buffer.js';
import { createSecretMasker, maskText } from '../../src/masking/secret-masker.js';
import { TraceWriter, type TraceMasking } from '../../src/job/trace-writer.js';

// The real masker, counting the bytes each path is asked to mask.
function countingMasking(values: string[]): TraceMasking & { maskedBytes: () => number } {
  let bytes = 0;
  return {
    maskedBytes: () => bytes,
    createStreamMasker: () => {
      const masker = createSecretMasker({ values });
      const transform = masker._transform.bind(masker);
      masker._transform = (chunk: Buffer, encoding, callback) => {
        bytes += chunk.length;
        transform(chunk, encoding, callback);
      };
      return masker;
    },
    maskText: (text) => {
      bytes += Buffer.byteLength(text);
      return maskText(text, values);
    },
  };
}

describe('TraceWriter at the output limit', () => {
  it('masks what is kept, then hands nothing more to the masker', async () => {
    const sink = await TraceBuffer.create({ limitBytes: 1024 });
    try {
      const masking = countingMasking(['s3cr3t-value']);
      const trace = new TraceWriter({ sink, masking, traceSections: false });
      const output = trace.openStageOutput();
      output.stdout.write(`first s3cr3t-value ${'x'.repeat(2000)}\n`);
      await trace.flush();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(sink.limitReached, true);
      const maskedAtLimit = masking.maskedBytes();
      for (let line = 0; line < 100; line++) output.stdout.write(`more output s3cr3t-value ${line}\n`);
      trace.plain('a runner line after the limit');
      await output.close();
      await trace.finish();
      sink.end();
      await sink.whenComplete();
      assert.equal(masking.maskedBytes(), maskedAtLimit);
      const kept = (await sink.read(0, sink.size)).toString();
      assert.match(kept, /^first \[MASKED\] x+/);
      assert.doesNotMatch(kept, /s3cr3t|more output s3|runner line/);
      assert.match(kept, /Job's log exceeded limit of 1024 bytes/);
    } finally {
      await sink.close();
    }
  });
});
