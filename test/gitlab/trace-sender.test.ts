import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import type { CancelReason } from '../../src/job/types.js';
import { TraceBuffer } from '../../src/gitlab/trace-buffer.js';
import { MAX_PATCH_BYTES, TraceSender, type TraceSenderOptions } from '../../src/gitlab/trace-sender.js';
import { startTraceServer, type TraceServerOptions } from './helpers/trace-server.js';
import { waitFor } from '../support/wait-for.js';

const jobId = 501;
const jobToken = 'glcbt-trace-token';

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  server: Partial<TraceServerOptions>,
  sender: Partial<TraceSenderOptions> = {},
) {
  const gitlab = await startTraceServer({ jobId, jobToken, ...server });
  const buffer = await TraceBuffer.create({ limitBytes: 64 * 1024 * 1024 });
  const traceSender = new TraceSender({
    url: gitlab.url,
    jobId,
    jobToken,
    buffer,
    updateIntervalMs: 5,
    patchRetry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...sender,
  });
  const cancels: CancelReason[] = [];
  traceSender.on('cancel', (reason) => cancels.push(reason));
  t.after(async () => {
    await traceSender.stop();
    await buffer.close();
    await gitlab.close();
  });
  return { gitlab, buffer, sender: traceSender, cancels };
}

// Text output (valid UTF-8) in uneven chunks, written while the sender runs.
async function writeOutput(buffer: TraceBuffer, totalBytes: number): Promise<void> {
  let written = 0;
  while (written < totalBytes) {
    const size = Math.min(totalBytes - written, 1000 + Math.floor(Math.random() * 300_000));
    const chunk = randomBytes(Math.ceil((size * 3) / 4))
      .toString('base64')
      .slice(0, size);
    if (!buffer.write(chunk)) await new Promise((resolve) => buffer.once('drain', resolve));
    written += size;
    if (Math.random() < 0.3) await sleep(2);
  }
  buffer.end();
}

describe('TraceSender', () => {
  it('delivers byte-identical logs through 500s, dropped connections, a lost log and 416s', async (t) => {
    const faults = {
      1: 'error-500',
      2: 'error-500',
      3: 'lose-log',
      5: 'drop',
      7: 'store-then-drop',
      9: 'spurious-416',
      11: 'store-then-drop',
      13: 'error-500',
    } as const;
    const { gitlab, buffer, sender, cancels } = await setup(t, { faults });
    sender.start();
    await writeOutput(buffer, 8 * 1024 * 1024 + 12345);
    const result = await sender.finish();
    assert.deepEqual(result, { complete: true });
    const kept = await buffer.read(0, buffer.size);
    assert.equal(gitlab.size(), buffer.size);
    assert.ok(gitlab.log().equals(kept), 'server log is byte-identical');
    assert.equal(zlib.crc32(gitlab.log()), gitlab.crc());
    assert.equal(`crc32:${gitlab.crc().toString(16).padStart(8, '0')}`, buffer.checksum);
    const statuses = new Set(gitlab.patches.map((patch) => patch.status));
    assert.ok(
      statuses.has(500) && statuses.has(416) && statuses.has(0) && statuses.has(202),
      `statuses seen: ${[...statuses].join(',')}`,
    );
    for (const patch of gitlab.patches) {
      assert.ok(patch.length > 0 && patch.length <= MAX_PATCH_BYTES, `patch of ${patch.length} bytes`);
      assert.equal(patch.contentRange, `${patch.start}-${patch.start + patch.length - 1}`);
    }
    assert.deepEqual(cancels, []);
  });

  it('emits a graceful cancel once on Job-Status: canceling and keeps sending', async (t) => {
    let status = 'running';
    const { gitlab, buffer, sender, cancels } = await setup(t, { jobStatus: () => status });
    sender.start();
    buffer.write('before\n');
    await waitFor(() => gitlab.size() === 7);
    status = 'canceling';
    buffer.write('after_script output\n');
    await waitFor(() => cancels.length > 0);
    buffer.write('more\n');
    buffer.end();
    assert.deepEqual(await sender.finish(), { complete: true });
    assert.deepEqual(cancels, [{ kind: 'canceling' }]);
    assert.equal(gitlab.log().toString(), 'before\nafter_script output\nmore\n');
  });

  it('aborts on Job-Status: canceled and sends nothing more', async (t) => {
    let status = 'running';
    const { gitlab, buffer, sender, cancels } = await setup(t, { jobStatus: () => status });
    sender.start();
    buffer.write('one\n');
    await waitFor(() => gitlab.size() === 4);
    status = 'canceled';
    buffer.write('two\n');
    await waitFor(() => cancels.length > 0);
    const patchesAtCancel = gitlab.patches.length;
    buffer.end('three\n');
    assert.deepEqual(await sender.finish(), { complete: false });
    assert.deepEqual(cancels, [{ kind: 'canceled' }]);
    assert.equal(sender.aborted, true);
    assert.equal(gitlab.patches.length, patchesAtCancel);
  });

  it('treats a 403 as canceled', async (t) => {
    const { buffer, sender, cancels } = await setup(t, {}, { jobToken: 'wrong-token' });
    sender.start();
    buffer.end('x\n');
    assert.deepEqual(await sender.finish(), { complete: false });
    assert.deepEqual(cancels, [{ kind: 'canceled' }]);
  });

  it('adopts the server’s X-GitLab-Trace-Update-Interval', async (t) => {
    const { buffer, sender } = await setup(t, { updateIntervalSeconds: 7 });
    sender.start();
    buffer.write('hello\n');
    await waitFor(() => sender.sentBytes === 6);
    assert.equal(sender.updateIntervalMs, 7000);
    buffer.end();
    assert.deepEqual(await sender.finish(), { complete: true });
  });

  it('sends a keep-alive PUT with checksum and size when nothing was sent for a while', async (t) => {
    const { gitlab, buffer, sender } = await setup(t, {}, { forceSendIntervalMs: 50 });
    sender.start();
    buffer.write('quiet job\n');
    await waitFor(() => gitlab.puts.length > 0);
    assert.deepEqual(gitlab.puts[0], {
      token: jobToken,
      state: 'running',
      checksum: buffer.checksum,
      output: { checksum: buffer.checksum, bytesize: 10 },
    });
    buffer.end();
    await sender.finish();
  });

  it('learns of a graceful cancel from the keep-alive PUT of a silent job', async (t) => {
    let status = 'running';
    const { gitlab, buffer, sender, cancels } = await setup(
      t,
      { jobStatus: () => status },
      { forceSendIntervalMs: 0 },
    );
    sender.start();
    await waitFor(() => gitlab.puts.length > 0);
    status = 'canceling';
    await waitFor(() => cancels.length > 0);
    assert.deepEqual(cancels, [{ kind: 'canceling' }]);
    assert.equal(gitlab.patches.length, 0, 'no empty patch is ever sent');
    buffer.end();
    assert.deepEqual(await sender.finish(), { complete: true });
  });

  it('flushes everything on finish() even when never started', async (t) => {
    const { gitlab, buffer, sender } = await setup(t, {});
    buffer.end('all at the end\n');
    assert.deepEqual(await sender.finish(), { complete: true });
    assert.equal(gitlab.log().toString(), 'all at the end\n');
  });
});
