import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReference, parseImageReference } from '../../src/oci/reference.js';
import { hasCode } from '../../src/errors.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference (distribution/reference rules)', () => {
  const cases: [string, string][] = [
    ['node:20', 'docker.io/library/node:20'],
    ['alpine', 'docker.io/library/alpine:latest'],
    ['tutum/wordpress', 'docker.io/tutum/wordpress:latest'],
    ['index.docker.io/ubuntu', 'docker.io/library/ubuntu:latest'],
    ['registry.example.com:5000/a/b:tag', 'registry.example.com:5000/a/b:tag'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
    [`myhost:5000/x@${DIGEST}`, `myhost:5000/x@${DIGEST}`],
    [`alpine:3.19@${DIGEST}`, `docker.io/library/alpine@${DIGEST}`],
    ['127.0.0.1:5000/group/sub/img:1.0-rc_1', '127.0.0.1:5000/group/sub/img:1.0-rc_1'],
  ];
  for (const [input, canonical] of cases) {
    it(`${input} -> ${canonical}`, () => assert.equal(formatReference(parseImageReference(input)), canonical));
  }
  for (const bad of ['', 'Node:20', 'a/B', 'node:', `node@sha256:abc`, 'a'.repeat(64), ' node', 'x:5000/', 'node:-tag']) {
    it(`refuses ${JSON.stringify(bad)} with IMAGE_REFERENCE_INVALID`, () => {
      assert.throws(() => parseImageReference(bad), (error: unknown) => hasCode(error, 'IMAGE_REFERENCE_INVALID'));
    });
  }
});
