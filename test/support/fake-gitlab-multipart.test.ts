// The fake's multipart parser accepts well-formed form data and rejects malformed framing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multipartBoundary, parseMultipart } from './fake-gitlab/multipart.js';

const body = (text: string) => Buffer.from(text.replaceAll('\n', '\r\n'), 'latin1');

describe('multipart parser', () => {
  it('reads the boundary from quoted and bare Content-Type parameters', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
    assert.equal(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b"'), 'a b');
    assert.equal(multipartBoundary('application/json'), undefined);
    assert.equal(multipartBoundary(undefined), undefined);
  });

  it('splits parts with names, filenames, types and binary data intact', () => {
    const binary = Buffer.from([0, 13, 10, 45, 45, 255]);
    const raw = Buffer.concat([
      body(
        'preamble\n--XyZ\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".zip"\nContent-Type: application/octet-stream\n\n',
      ),
      binary,
      body('\n--XyZ\nContent-Disposition: form-data; name="expire_in"\n\n1 week\n--XyZ--\n'),
    ]);
    const result = parseMultipart(raw, 'XyZ');
    assert.ok(result.ok);
    assert.deepEqual(
      result.parts.map((p) => [p.name, p.filename, p.contentType]),
      [
        ['file', 'a "b".zip', 'application/octet-stream'],
        ['expire_in', undefined, undefined],
      ],
    );
    assert.ok(result.parts[0]?.data.equals(binary));
    assert.equal(result.parts[1]?.data.toString(), '1 week');
  });

  it('rejects a body without a closing boundary, a headerless part, or a part without a name', () => {
    assert.deepEqual(parseMultipart(body('--B\nContent-Disposition: form-data; name="f"\n\ndata'), 'B'), {
      ok: false,
      error: 'missing closing boundary',
    });
    assert.equal(parseMultipart(body('--B\ndata\n--B--'), 'B').ok, false);
    assert.equal(parseMultipart(body('--B\nContent-Disposition: form-data\n\nx\n--B--'), 'B').ok, false);
    assert.equal(parseMultipart(body('nothing here'), 'B').ok, false);
  });
});
