import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../../src/errors.js';
import { FirecrackerApiClient, MAX_API_BODY_BYTES } from '../../../src/vmm/firecracker/api-client.js';
import {
  startFirecrackerDouble,
  type DoubleScenario,
  type FirecrackerDouble,
} from '../../support/firecracker-double/server.js';

async function withDouble(
  scenario: DoubleScenario,
  body: (client: FirecrackerApiClient, double: FirecrackerDouble) => Promise<void>,
  timeoutMs?: number,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tfc-api-'));
  const socketPath = join(dir, 'api.sock');
  const double = await startFirecrackerDouble({ apiSocketPath: socketPath, scenario });
  try {
    await body(new FirecrackerApiClient({ socketPath, requestTimeoutMs: timeoutMs }), double);
  } finally {
    await double.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('requests carry Content-Length and Accept and are never chunked (the double records the headers)', async () => {
  await withDouble('ok', async (client, double) => {
    await client.call({ method: 'PUT', path: '/entropy', body: {} });
    const response = await client.call({ method: 'GET', path: '/machine-config' });
    assert.deepEqual(response, {
      status: 200,
      body: { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false },
    });
    assert.deepEqual(
      double.calls.map((call) => call.headers),
      [
        {
          contentLength: '2',
          transferEncoding: undefined,
          accept: 'application/json',
          contentType: 'application/json',
        },
        {
          contentLength: '0',
          transferEncoding: undefined,
          accept: 'application/json',
          contentType: undefined,
        },
      ],
    );
  });
});

test('a fault_message answer becomes FIRECRACKER_API_ERROR with method, path, status and message', async () => {
  await withDouble('ok', async (client) => {
    await assert.rejects(
      client.call({ method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } }),
      (error: unknown) => {
        assert.ok(hasCode(error, 'FIRECRACKER_API_ERROR'));
        assert.deepEqual(error.details, {
          method: 'PUT',
          path: '/actions',
          status: 400,
          faultMessage: 'Cannot start microvm without kernel configuration.',
        });
        return true;
      },
    );
  });
});

test('send() returns non-2xx answers instead of throwing', async () => {
  await withDouble('ok', async (client) => {
    const response = await client.send({
      method: 'PUT',
      path: '/vsock',
      body: { guest_cid: 1, uds_path: '/x' },
    });
    assert.equal(response.status, 400);
  });
});

test('an API that does not answer fails with FIRECRACKER_API_TIMEOUT after the named timeout', async () => {
  await withDouble(
    'hang',
    async (client) => {
      const started = Date.now();
      await assert.rejects(client.call({ method: 'GET', path: '/' }), (error: unknown) =>
        hasCode(error, 'FIRECRACKER_API_TIMEOUT'),
      );
      assert.ok(Date.now() - started >= 150);
    },
    150,
  );
});

test('a missing socket is FIRECRACKER_API_UNREACHABLE, an oversized body is refused before sending', async () => {
  const client = new FirecrackerApiClient({ socketPath: join(tmpdir(), 'no-such-dir-tfc', 'api.sock') });
  await assert.rejects(client.call({ method: 'GET', path: '/' }), (error: unknown) =>
    hasCode(error, 'FIRECRACKER_API_UNREACHABLE'),
  );
  const big = { data: 'x'.repeat(MAX_API_BODY_BYTES) };
  await assert.rejects(client.call({ method: 'PUT', path: '/mmds', body: big }), (error: unknown) =>
    hasCode(error, 'FIRECRACKER_API_BODY_TOO_LARGE'),
  );
});
