import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootKeyOf, bootKeyString } from '../../../../src/executor/vm/pool/boot-key.js';

const JOB = `sha256:${'a'.repeat(64)}`;
const WEB = `sha256:${'b'.repeat(64)}`;
const DB = `sha256:${'c'.repeat(64)}`;

describe('boot keys', () => {
  it('is the default root for a job with neither image nor services', () => {
    assert.equal(bootKeyString(bootKeyOf({})), 'default');
    assert.equal(bootKeyString(bootKeyOf({ serviceDigests: [] })), 'default');
  });

  it('names the job image and every service image, in order', () => {
    assert.equal(bootKeyString(bootKeyOf({ imageDigest: JOB })), `default@${JOB}`);
    assert.equal(bootKeyString(bootKeyOf({ imageDigest: JOB, serviceDigests: [WEB, DB] })), `default@${JOB}+services=${WEB},${DB}`);
    assert.equal(bootKeyString(bootKeyOf({ serviceDigests: [WEB] })), `default+services=${WEB}`);
  });

  it('tells apart VMs whose services differ only in order', () => {
    assert.notEqual(bootKeyString(bootKeyOf({ serviceDigests: [WEB, DB] })), bootKeyString(bootKeyOf({ serviceDigests: [DB, WEB] })));
  });
});
