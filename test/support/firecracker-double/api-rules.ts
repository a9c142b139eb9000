// TEST DOUBLE of Firecracker's API semantics (not Firecracker): what a v1.16 Firecracker answers
// to each request, given the requests before it. Every request is first checked against the
// official spec; then the pre-boot/post-boot rules and file checks of firecracker.md §1.1–§1.3.
import { existsSync } from 'node:fs';
import type { ApiRequest } from '../../../src/vmm/firecracker/api-client.js';
import type { RequestValidator } from './spec-validator.js';

export interface DoubleAnswer {
  status: number;
  body?: unknown;
}

/** What the double has been configured with so far (the parts tests look at). */
export interface DoubleVmState {
  started: boolean;
  loggerConfigured: boolean;
  bootSource?: { kernel_image_path: string; initrd_path?: string; boot_args?: string };
  drives: Map<string, Record<string, unknown>>;
  machineConfig: { vcpu_count: number; mem_size_mib: number; smt: boolean; track_dirty_pages: boolean };
  networkInterfaces: Map<string, Record<string, unknown>>;
  vsock?: { guest_cid: number; uds_path: string };
  entropy: boolean;
}

export const NOT_SUPPORTED_AFTER_START =
  'The requested operation is not supported after starting the microVM.';
export const NOT_SUPPORTED_BEFORE_START =
  'The requested operation is not supported before starting the microVM.';

/** Resources that can only be configured before InstanceStart (PUT). */
const PRE_BOOT_ONLY = new Set([
  '/boot-source',
  '/drives/{drive_id}',
  '/machine-config',
  '/network-interfaces/{iface_id}',
  '/vsock',
  '/logger',
  '/metrics',
  '/entropy',
  '/serial',
  '/mmds/config',
  '/cpu-config',
  '/balloon',
  '/pmem/{id}',
]);

export function initialVmState(): DoubleVmState {
  return {
    started: false,
    loggerConfigured: false,
    drives: new Map(),
    machineConfig: { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false },
    networkInterfaces: new Map(),
    entropy: false,
  };
}

const fault = (message: string, status = 400): DoubleAnswer => ({ status, body: { fault_message: message } });
const noContent: DoubleAnswer = { status: 204 };

/**
 * Answers one request and updates `state`. Side effects the double needs (binding the vsock
 * socket, starting the guest) are left to the caller, which sees the answer and the state.
 */
export function answerRequest(
  validator: RequestValidator,
  state: DoubleVmState,
  request: ApiRequest,
  instanceId: string,
): DoubleAnswer {
  const check = validator.check(request);
  if (!check.ok) {
    const isRouting = check.problems.some(
      (problem) => problem.startsWith('no path') || problem.includes('is not defined for'),
    );
    return fault(
      isRouting
        ? `Invalid request method and/or path: ${request.method} ${request.path}.`
        : `An error occurred when deserializing the json body of a request: ${check.problems.join('; ')}`,
    );
  }
  const template = templateOf(request.path);
  const idProblem = pathIdProblem(check.pathParams, request.body);
  if (idProblem !== undefined) return fault(idProblem);
  if (request.method === 'PUT' && PRE_BOOT_ONLY.has(template) && state.started)
    return fault(NOT_SUPPORTED_AFTER_START);
  if (
    request.method === 'PATCH' &&
    !state.started &&
    template !== '/machine-config' &&
    template !== '/mmds'
  ) {
    return fault(NOT_SUPPORTED_BEFORE_START);
  }
  return applyRequest(state, request, template, instanceId);
}

/** The state change (or read) for a spec-valid request. */
function applyRequest(
  state: DoubleVmState,
  request: ApiRequest,
  template: string,
  instanceId: string,
): DoubleAnswer {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const key = `${request.method} ${template}`;
  switch (key) {
    case 'GET /':
      return {
        status: 200,
        body: {
          app_name: 'Firecracker',
          id: instanceId,
          state: state.started ? 'Running' : 'Not started',
          vmm_version: '1.16.1',
        },
      };
    case 'GET /version':
      return { status: 200, body: { firecracker_version: '1.16.1' } };
    case 'GET /machine-config':
      return { status: 200, body: state.machineConfig };
    case 'PUT /logger':
      return putLogger(state, body);
    case 'PUT /boot-source':
      return putBootSource(state, body);
    case 'PUT /drives/{drive_id}':
      return putDrive(state, body);
    case 'PUT /machine-config':
      return putMachineConfig(state, body);
    case 'PUT /network-interfaces/{iface_id}':
      state.networkInterfaces.set(String(body.iface_id), body);
      return noContent;
    case 'PUT /vsock':
      return putVsock(state, body);
    case 'PUT /entropy':
      state.entropy = true;
      return noContent;
    case 'PUT /actions':
      return putAction(state, String(body.action_type));
    default:
      // Spec-valid but outside what the double models: say so instead of pretending.
      return fault(
        `firecracker double: ${key} is valid per the spec but not modelled by this test double`,
        501,
      );
  }
}

function putLogger(state: DoubleVmState, body: Record<string, unknown>): DoubleAnswer {
  if (state.loggerConfigured) return fault('Logger can be configured only once.');
  if (typeof body.log_path === 'string' && !existsSync(body.log_path)) {
    return fault(`Failed to open target file: No such file or directory (os error 2): ${body.log_path}`);
  }
  state.loggerConfigured = true;
  return noContent;
}

function putBootSource(state: DoubleVmState, body: Record<string, unknown>): DoubleAnswer {
  for (const field of ['kernel_image_path', 'initrd_path']) {
    const path = body[field];
    if (typeof path === 'string' && !existsSync(path))
      return fault(`Failed to open ${field}: No such file or directory (os error 2)`);
  }
  if (typeof body.boot_args === 'string' && Buffer.byteLength(body.boot_args) > 2048)
    return fault('Invalid boot arguments: too long');
  state.bootSource = body as DoubleVmState['bootSource'];
  return noContent;
}

function putDrive(state: DoubleVmState, body: Record<string, unknown>): DoubleAnswer {
  if (
    body.socket === undefined &&
    (typeof body.path_on_host !== 'string' || typeof body.is_read_only !== 'boolean')
  ) {
    return fault(
      'Unable to parse the block device config: virtio-block needs path_on_host and is_read_only.',
    );
  }
  if (typeof body.path_on_host === 'string' && !existsSync(body.path_on_host)) {
    return fault(
      `Unable to create the block device: No such file or directory (os error 2): ${body.path_on_host}`,
    );
  }
  const otherRoot = [...state.drives.values()].some(
    (drive) => drive.is_root_device === true && drive.drive_id !== body.drive_id,
  );
  if (body.is_root_device === true && otherRoot) return fault('A root block device already exists!');
  state.drives.set(String(body.drive_id), body);
  return noContent;
}

function putMachineConfig(state: DoubleVmState, body: Record<string, unknown>): DoubleAnswer {
  const vcpus = Number(body.vcpu_count);
  const smt = body.smt === true;
  if (smt && vcpus > 1 && vcpus % 2 !== 0)
    return fault('The number of vCPUs must be 1 or an even number when SMT is enabled.');
  // PUT resets omitted optional fields to their defaults (firecracker.md §1.2 step 5).
  state.machineConfig = {
    vcpu_count: vcpus,
    mem_size_mib: Number(body.mem_size_mib),
    smt,
    track_dirty_pages: body.track_dirty_pages === true,
  };
  return noContent;
}

function putVsock(state: DoubleVmState, body: Record<string, unknown>): DoubleAnswer {
  if (existsSync(String(body.uds_path)))
    return fault('Cannot create backend for vsock device: Address in use (os error 98)');
  state.vsock = { guest_cid: Number(body.guest_cid), uds_path: String(body.uds_path) };
  return noContent;
}

function putAction(state: DoubleVmState, action: string): DoubleAnswer {
  if (action === 'InstanceStart') {
    if (state.started) return fault(NOT_SUPPORTED_AFTER_START);
    if (state.bootSource === undefined) return fault('Cannot start microvm without kernel configuration.');
    state.started = true;
    return noContent;
  }
  if (action === 'SendCtrlAltDel') return state.started ? noContent : fault(NOT_SUPPORTED_BEFORE_START);
  return noContent; // FlushMetrics
}

/** Ids in paths: non-empty, alphanumeric or underscore, equal to the id in the body. */
function pathIdProblem(pathParams: Record<string, string>, body: unknown): string | undefined {
  for (const [name, value] of Object.entries(pathParams)) {
    if (!/^[A-Za-z0-9_]+$/.test(value))
      return `Invalid ID: ${value} (only alphanumeric characters and underscores)`;
    const bodyField = name === 'id' ? 'id' : name;
    const bodyId = (body as Record<string, unknown> | undefined)?.[bodyField];
    if (bodyId !== undefined && bodyId !== value)
      return 'The id from the path does not match the id from the body!';
  }
  return undefined;
}

/** `/drives/rootfs` → `/drives/{drive_id}` (only the templates the double models). */
function templateOf(path: string): string {
  const pathOnly = path.split('?')[0] ?? path;
  if (pathOnly.startsWith('/drives/')) return '/drives/{drive_id}';
  if (pathOnly.startsWith('/network-interfaces/')) return '/network-interfaces/{iface_id}';
  if (pathOnly.startsWith('/pmem/')) return '/pmem/{id}';
  return pathOnly;
}
