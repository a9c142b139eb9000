// Keeps the job log valid UTF-8 across chunk boundaries: invalid bytes become U+FFFD (§4.6),
// a character split between two writes is held back until its remaining bytes arrive.
import { isUtf8 } from 'node:buffer';

export class Utf8Sanitizer {
  #carry: Buffer = Buffer.alloc(0);

  /** The valid UTF-8 that can be emitted now. */
  push(chunk: Buffer): Buffer {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const cut = completeLength(data);
    this.#carry = Buffer.from(data.subarray(cut));
    return sanitize(data.subarray(0, cut));
  }

  /** What is left at end of stream: an unfinished character becomes U+FFFD. */
  flush(): Buffer {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    return sanitize(rest);
  }
}

/** The largest prefix of valid-UTF-8 `data` that does not end inside a character. */
export function utf8BoundaryBefore(data: Uint8Array, limit: number): number {
  let cut = Math.min(limit, data.length);
  while (cut > 0 && cut < data.length && ((data[cut] as number) & 0xc0) === 0x80) cut--;
  return cut;
}

function sanitize(data: Buffer): Buffer {
  if (data.length === 0 || isUtf8(data)) return data;
  return Buffer.from(new TextDecoder('utf-8', { ignoreBOM: true }).decode(data), 'utf8');
}

// Length of `data` without a trailing, possibly-valid but incomplete multi-byte sequence.
function completeLength(data: Uint8Array): number {
  const end = data.length;
  for (let back = 1; back <= Math.min(3, end); back++) {
    const byte = data[end - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const needed =
      byte >= 0xf0 && byte <= 0xf4
        ? 4
        : byte >= 0xe0 && byte <= 0xef
          ? 3
          : byte >= 0xc2 && byte <= 0xdf
            ? 2
            : 1;
    return needed > back ? end - back : end;
  }
  return end;
}
