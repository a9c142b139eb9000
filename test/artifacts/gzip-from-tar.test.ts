import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { gzipMembersFromTar } from '../../src/artifacts/gzip-from-tar.js';

const FILES: Record<string, string> = {
  'reports/junit.xml': '<testsuites><testsuite name="a"/></testsuites>\n',
  'reports/dotenv.env': 'KEY=value\n',
  'coverage/cobertura.xml': 'x'.repeat(200_000),
};

function tarOf(files: Record<string, string>): Readable {
  const pack = tarPack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  return pack as unknown as Readable;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// Within a bound, so a hang shows up as a failure rather than as the test runner's timeout.
async function withinSeconds<T>(seconds: number, work: Promise<T>): Promise<T> {
  const timeout = delay(seconds * 1000).then(() => {
    throw new Error(`no result within ${seconds} s`);
  });
  return Promise.race([work, timeout]);
}

describe('gzipMembersFromTar', () => {
  for (const consumerDelayMs of [0, 50, 200]) {
    it(`yields every file when the consumer starts reading after ${consumerDelayMs} ms`, async () => {
      const output = gzipMembersFromTar(tarOf(FILES));
      await delay(consumerDelayMs);
      const body = await withinSeconds(5, readAll(output));
      assert.equal(zlib.gunzipSync(body).toString(), Object.values(FILES).join(''));
    });
  }

  it('yields every file when the tar producer is slower than the consumer', async () => {
    const pack = tarPack();
    const output = gzipMembersFromTar(pack as unknown as Readable);
    const reading = readAll(output);
    for (const [name, content] of Object.entries(FILES)) {
      await delay(30);
      pack.entry({ name, mtime: new Date(0) }, content);
    }
    pack.finalize();
    const body = await withinSeconds(5, reading);
    assert.equal(zlib.gunzipSync(body).toString(), Object.values(FILES).join(''));
  });
});
