import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFLATED,
  STORED,
  centralDirectoryRecord,
  dataDescriptor,
  endOfCentralDirectory,
  localFileHeader,
  type ZipEntryRecord,
} from '../../src/artifacts/zip-records.js';

const FIVE_GIB = 5 * 1024 * 1024 * 1024;

function record(fields: Partial<ZipEntryRecord> = {}): ZipEntryRecord {
  return {
    name: Buffer.from('dir/file.bin'),
    mode: 0o100644,
    mtime: new Date('2024-05-06T07:08:08Z'),
    method: DEFLATED,
    hasDataDescriptor: true,
    crc: 0xcafebabe,
    compressedSize: 1000,
    uncompressedSize: 4000,
    localHeaderOffset: 123,
    ...fields,
  };
}

// Finds extra field `id` in a central directory record.
function extraField(central: Buffer, id: number): Buffer | undefined {
  const nameLength = central.readUInt16LE(28);
  const extraLength = central.readUInt16LE(30);
  let offset = 46 + nameLength;
  const end = offset + extraLength;
  while (offset < end) {
    const size = central.readUInt16LE(offset + 2);
    if (central.readUInt16LE(offset) === id) return central.subarray(offset + 4, offset + 4 + size);
    offset += 4 + size;
  }
  return undefined;
}

describe('zip records', () => {
  it('write a small entry with 32-bit fields, the UTF-8 flag, a data descriptor and the 0x5455 mtime', () => {
    const entry = record();
    const local = localFileHeader(entry);
    assert.equal(local.readUInt32LE(0), 0x04034b50);
    assert.equal(local.readUInt16LE(6), 0x0808);
    assert.equal(local.readUInt32LE(14), 0, 'CRC follows in the descriptor');
    assert.equal(local.subarray(30).toString(), 'dir/file.bin');
    const descriptor = dataDescriptor(entry);
    assert.equal(descriptor.length, 16);
    assert.deepEqual(
      [descriptor.readUInt32LE(4), descriptor.readUInt32LE(8), descriptor.readUInt32LE(12)],
      [0xcafebabe, 1000, 4000],
    );
    const central = centralDirectoryRecord(entry);
    assert.equal(central.readUInt16LE(4), 0x033f, 'made by Unix, 6.3');
    assert.equal(central.readUInt16LE(6), 20);
    assert.equal(central.readUInt32LE(38) >>> 16, 0o100644);
    assert.equal(central.readUInt32LE(42), 123);
    const timestamp = extraField(central, 0x5455);
    assert.equal(timestamp?.readUInt8(0), 3);
    assert.equal(timestamp?.readInt32LE(1), Math.floor(entry.mtime.getTime() / 1000));
    assert.equal(extraField(central, 0x0001), undefined);
  });

  it('write a directory or symlink with its CRC and sizes in the local header and no descriptor flag', () => {
    const local = localFileHeader(
      record({ method: STORED, hasDataDescriptor: false, crc: 7, compressedSize: 8, uncompressedSize: 8 }),
    );
    assert.equal(local.readUInt16LE(6), 0x0800);
    assert.deepEqual([local.readUInt32LE(14), local.readUInt32LE(18), local.readUInt32LE(22)], [7, 8, 8]);
  });

  it('write zip64 sizes for an entry over 4 GiB: a 24-byte descriptor and the 0x0001 extra field', () => {
    const entry = record({ uncompressedSize: FIVE_GIB, compressedSize: FIVE_GIB + 10 });
    const descriptor = dataDescriptor(entry);
    assert.equal(descriptor.length, 24);
    assert.equal(Number(descriptor.readBigUInt64LE(8)), FIVE_GIB + 10);
    assert.equal(Number(descriptor.readBigUInt64LE(16)), FIVE_GIB);
    const central = centralDirectoryRecord(entry);
    assert.equal(central.readUInt16LE(6), 45);
    assert.deepEqual(
      [central.readUInt32LE(20), central.readUInt32LE(24), central.readUInt32LE(42)],
      [0xffffffff, 0xffffffff, 0xffffffff],
    );
    const zip64 = extraField(central, 0x0001);
    assert.ok(zip64);
    assert.deepEqual(
      [zip64.readBigUInt64LE(0), zip64.readBigUInt64LE(8), zip64.readBigUInt64LE(16)].map(Number),
      [FIVE_GIB, FIVE_GIB + 10, 123],
    );
  });

  it('write the zip64 offset for an entry that starts past 4 GiB', () => {
    const central = centralDirectoryRecord(record({ localHeaderOffset: FIVE_GIB }));
    assert.equal(Number(extraField(central, 0x0001)?.readBigUInt64LE(16)), FIVE_GIB);
    assert.equal(dataDescriptor(record({ localHeaderOffset: FIVE_GIB })).length, 24);
  });

  it('end the archive with the classic record alone when everything fits, with zip64 records otherwise', () => {
    assert.equal(
      endOfCentralDirectory({ entryCount: 3, centralDirectoryOffset: 100, centralDirectorySize: 50 }).length,
      22,
    );
    const end = endOfCentralDirectory({
      entryCount: 3,
      centralDirectoryOffset: FIVE_GIB,
      centralDirectorySize: 50,
    });
    assert.equal(end.length, 56 + 20 + 22);
    assert.equal(end.readUInt32LE(0), 0x06064b50);
    assert.equal(Number(end.readBigUInt64LE(48)), FIVE_GIB);
    assert.equal(end.readUInt32LE(56), 0x07064b50);
    assert.equal(
      Number(end.readBigUInt64LE(56 + 8)),
      FIVE_GIB + 50,
      'the locator points at the zip64 end record',
    );
    assert.equal(end.readUInt32LE(76 + 16), 0xffffffff);
  });
});
