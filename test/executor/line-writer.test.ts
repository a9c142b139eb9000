// The line splitter shared by tart exec's job output and a service's followed log: whole lines,
// a character split between writes kept whole, the unterminated rest at the end, and nothing lost
// when the writer waits before its first read of the source.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { lineWriter } from '../../src/executor/line-writer.js';

test('splits lines across chunks and keeps a UTF-8 character split between writes whole', async () => {
  const bytes = Buffer.from('first ünï\nsecond €\r\nlast without newline', 'utf8');
  const lines: string[] = [];
  // One byte per chunk: every multi-byte character is split.
  await pipeline(Readable.from([...bytes].map((byte) => Buffer.of(byte))), lineWriter((line) => lines.push(line)));
  assert.deepEqual(lines, ['first ünï', 'second €\r', 'last without newline']);
});

test('loses nothing when the source is read late, by a slow producer', async () => {
  async function* slowly() {
    for (const part of ['a', 'b\nc', '\n', 'd']) {
      await sleep(20);
      yield Buffer.from(part);
    }
  }
  const source = Readable.from(slowly());
  await sleep(100); // the writer is attached well after the source exists
  const lines: string[] = [];
  await pipeline(source, lineWriter((line) => lines.push(line)));
  assert.deepEqual(lines, ['ab', 'c', 'd']);
});
