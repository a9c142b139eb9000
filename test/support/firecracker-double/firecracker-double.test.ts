// Tests of the Firecracker API TEST DOUBLE itself: it must be as strict as Firecracker, or the
// driver's contract tests prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiRequest } from '../../../src/vmm/firecracker/api-client.js';
import {
  answerRequest,
  initialVmState,
  NOT_SUPPORTED_AFTER_START,
  NOT_SUPPORTED_BEFORE_START,
} from './api-rules.js';
import { specValidator } from './spec-path.js';
import { makeVmFixture } from '../../vmm/firecracker/fixtures.js';

const start: ApiRequest = { method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } };

function faultOf(answer: { body?: unknown }): string {
  return (answer.body as { fault_message: string }).fault_message;
}

test('double: InstanceStart needs a boot source and succeeds only once', async () => {
  const fixture = await makeVmFixture();
  try {
    const state = initialVmState();
    const ask = (request: ApiRequest) => answerRequest(specValidator(), state, request, 'vm');
    assert.equal(faultOf(ask(start)), 'Cannot start microvm without kernel configuration.');
    assert.equal(
      ask({ method: 'PUT', path: '/boot-source', body: { kernel_image_path: fixture.spec.kernelPath } })
        .status,
      204,
    );
    assert.equal(ask(start).status, 204);
    assert.equal(faultOf(ask(start)), NOT_SUPPORTED_AFTER_START);
  } finally {
    await fixture.cleanup();
  }
});

test('double: pre-boot resources are refused after start, SendCtrlAltDel and PATCH before it', async () => {
  const fixture = await makeVmFixture();
  try {
    const state = initialVmState();
    const ask = (request: ApiRequest) => answerRequest(specValidator(), state, request, 'vm');
    assert.equal(
      faultOf(ask({ method: 'PUT', path: '/actions', body: { action_type: 'SendCtrlAltDel' } })),
      NOT_SUPPORTED_BEFORE_START,
    );
    assert.equal(
      faultOf(ask({ method: 'PATCH', path: '/drives/rootfs', body: { drive_id: 'rootfs' } })),
      NOT_SUPPORTED_BEFORE_START,
    );
    ask({ method: 'PUT', path: '/boot-source', body: { kernel_image_path: fixture.spec.kernelPath } });
    ask(start);
    for (const request of [
      { method: 'PUT', path: '/boot-source', body: { kernel_image_path: fixture.spec.kernelPath } },
      { method: 'PUT', path: '/machine-config', body: { vcpu_count: 1, mem_size_mib: 128 } },
      {
        method: 'PUT',
        path: '/drives/rootfs',
        body: {
          drive_id: 'rootfs',
          is_root_device: false,
          is_read_only: true,
          path_on_host: fixture.spec.disks.rootfs,
        },
      },
      { method: 'PUT', path: '/vsock', body: { guest_cid: 3, uds_path: join(fixture.dir, 'x.sock') } },
    ] as ApiRequest[]) {
      assert.equal(faultOf(ask(request)), NOT_SUPPORTED_AFTER_START, request.path);
    }
    assert.equal(
      ask({ method: 'PUT', path: '/actions', body: { action_type: 'SendCtrlAltDel' } }).status,
      204,
    );
  } finally {
    await fixture.cleanup();
  }
});

test('double: ids must be alphanumeric/underscore and match the body; files must exist; logger only once', async () => {
  const fixture = await makeVmFixture();
  try {
    const state = initialVmState();
    const ask = (request: ApiRequest) => answerRequest(specValidator(), state, request, 'vm');
    const drive = { is_root_device: false, is_read_only: true, path_on_host: fixture.spec.disks.rootfs };
    assert.match(
      faultOf(ask({ method: 'PUT', path: '/drives/root-fs', body: { ...drive, drive_id: 'root-fs' } })),
      /Invalid ID/,
    );
    assert.match(
      faultOf(ask({ method: 'PUT', path: '/drives/a', body: { ...drive, drive_id: 'b' } })),
      /does not match the id from the body/,
    );
    assert.match(
      faultOf(
        ask({
          method: 'PUT',
          path: '/drives/a',
          body: { ...drive, drive_id: 'a', path_on_host: '/nonexistent' },
        }),
      ),
      /No such file/,
    );
    assert.match(
      faultOf(ask({ method: 'PUT', path: '/boot-source', body: { kernel_image_path: '/nonexistent' } })),
      /No such file/,
    );
    const logPath = join(fixture.dir, 'fc.log');
    assert.match(
      faultOf(ask({ method: 'PUT', path: '/logger', body: { log_path: logPath } })),
      /No such file/,
    );
    await writeFile(logPath, '');
    assert.equal(ask({ method: 'PUT', path: '/logger', body: { log_path: logPath } }).status, 204);
    assert.match(faultOf(ask({ method: 'PUT', path: '/logger', body: { log_path: logPath } })), /only once/);
  } finally {
    await fixture.cleanup();
  }
});

test('double: spec violations answer 400 with a fault_message, like Firecracker', () => {
  const state = initialVmState();
  const ask = (request: ApiRequest) => answerRequest(specValidator(), state, request, 'vm');
  assert.match(
    faultOf(ask({ method: 'PUT', path: '/machine-config', body: { vcpu_count: 0, mem_size_mib: 128 } })),
    /deserializing the json body/,
  );
  assert.match(
    faultOf(ask({ method: 'PUT', path: '/nowhere', body: {} })),
    /Invalid request method and\/or path/,
  );
  assert.match(
    faultOf(
      ask({ method: 'PUT', path: '/machine-config', body: { vcpu_count: 3, mem_size_mib: 128, smt: true } }),
    ),
    /even number/,
  );
});
