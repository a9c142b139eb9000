// A Writable that hands over each complete line of what is written to it (without its newline),
// and the unterminated rest when it ends. Bytes are decoded as UTF-8 across chunk boundaries, so
// a character split between two writes arrives whole.
import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';

export function lineWriter(onLine: (line: string) => void): Writable {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return new Writable({
    decodeStrings: true,
    write(chunk: Buffer, _encoding, done) {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      done();
    },
    final(done) {
      pending += decoder.end();
      if (pending !== '') onLine(pending);
      pending = '';
      done();
    },
  });
}
