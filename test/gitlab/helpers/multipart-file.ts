// Parses the one multipart part named `file` that an artifact upload sends, checking its framing.
import assert from 'node:assert/strict';
import type { RecordedRequest } from './scripted-server.js';

export function multipartFile(request: RecordedRequest): { filename: string; content: Buffer } {
  const boundary = /boundary=(.+)$/.exec(String(request.headers['content-type']))?.[1];
  assert.ok(boundary, 'multipart boundary');
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="`;
  const body = request.body;
  assert.equal(body.subarray(0, head.length).toString(), head);
  const headerEnd = body.indexOf('\r\n\r\n');
  const filename = /filename="([^"]*)"/.exec(body.subarray(0, headerEnd).toString())?.[1] ?? '';
  assert.match(body.subarray(0, headerEnd).toString(), /\r\nContent-Type: application\/octet-stream$/);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  assert.ok(body.subarray(body.length - tail.length).equals(tail), 'closing boundary');
  return { filename, content: body.subarray(headerEnd + 4, body.length - tail.length) };
}
