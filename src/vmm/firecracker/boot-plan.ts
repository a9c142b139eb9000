// The ordered pre-boot API calls for one microVM (firecracker.md §1.2): logger, boot source,
// drives in the guest-contract order, machine config, network, vsock, entropy, then InstanceStart.
// Pure: paths are already the ones Firecracker sees (jail-relative when jailed).
import { TartError } from '../../errors.js';
import type { ApiRequest } from './api-client.js';

/** Drive ids double as the guest-contract disk names; ids are alphanumeric/underscore only. */
export const DRIVE_IDS = ['rootfs', 'scratch', 'seed'] as const;
export type DriveId = (typeof DRIVE_IDS)[number];
/** The optional fourth drive: the job's container image, read-only. */
export const JOB_IMAGE_DRIVE_ID = 'job_image';
/** The service images' drives, read-only, after the job image: `service_0`, `service_1`, … */
export const serviceDriveId = (index: number): string => `service_${index}`;

export const NETWORK_INTERFACE_ID = 'eth0';

/** Firecracker's CMDLINE_MAX_SIZE on x86_64, including what it appends itself. */
export const MAX_BOOT_ARGS_BYTES = 2048;

/**
 * Bytes kept free for what Firecracker appends (`virtio_mmio.device=…` per device, `pci=off`):
 * about 40 bytes for each of our five MMIO devices, and 40 more for each service drive.
 */
const APPENDED_BY_FIRECRACKER_BYTES = 256;
const APPENDED_PER_SERVICE_DRIVE_BYTES = 40;

export const MAX_VCPUS = 32;

export interface BootPlanInput {
  kernelPath: string;
  initrdPath?: string;
  bootArgs: string;
  /** Raw image files in guest-contract order: /dev/vda, /dev/vdb, /dev/vdc (/dev/vdd: the job's image). */
  drives: Record<DriveId, string> & { [JOB_IMAGE_DRIVE_ID]?: string };
  /** The service images, attached after the job image (guest contract: serviceDiskDevices). */
  serviceDrives?: string[];
  vcpus: number;
  memoryMb: number;
  /** TAP networking; omitted means no network device. */
  network?: { tapName: string; mac: string };
  vsock: { guestCid: number; udsPath: string };
  /** Firecracker's own log (must exist before PUT /logger: Firecracker opens, never creates it). */
  logPath: string;
}

/** Every request to send, in order; the last one starts the guest. */
export function planBoot(input: BootPlanInput): ApiRequest[] {
  checkPlanInput(input);
  return [
    {
      method: 'PUT',
      path: '/logger',
      body: { log_path: input.logPath, level: 'Warning', show_level: true, show_log_origin: false },
    },
    { method: 'PUT', path: '/boot-source', body: bootSourceBody(input) },
    ...DRIVE_IDS.map((id) => driveRequest(id, input.drives[id])),
    ...(input.drives[JOB_IMAGE_DRIVE_ID] === undefined ? [] : [driveRequest(JOB_IMAGE_DRIVE_ID, input.drives[JOB_IMAGE_DRIVE_ID])]),
    ...(input.serviceDrives ?? []).map((path, index) => driveRequest(serviceDriveId(index), path)),
    {
      method: 'PUT',
      path: '/machine-config',
      body: { vcpu_count: input.vcpus, mem_size_mib: input.memoryMb, smt: false },
    },
    ...(input.network === undefined ? [] : [networkRequest(input.network)]),
    {
      method: 'PUT',
      path: '/vsock',
      body: { guest_cid: input.vsock.guestCid, uds_path: input.vsock.udsPath },
    },
    { method: 'PUT', path: '/entropy', body: {} },
    { method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } },
  ] satisfies ApiRequest[];
}

/** The request that asks the guest to reboot (x86 only, post-boot only). */
export const SEND_CTRL_ALT_DEL: ApiRequest = {
  method: 'PUT',
  path: '/actions',
  body: { action_type: 'SendCtrlAltDel' },
};

/** Kernel, initrd and the full command line (given boot_args replace Firecracker's default entirely). */
function bootSourceBody(input: BootPlanInput): Record<string, string> {
  const body: Record<string, string> = { kernel_image_path: input.kernelPath, boot_args: input.bootArgs };
  if (input.initrdPath !== undefined) body.initrd_path = input.initrdPath;
  return body;
}

/**
 * Only scratch is writable (rootfs is shared, seed is read once — as the QEMU driver does). None is
 * the root device: the initramfs mounts the root itself (a root device makes Firecracker append root=).
 */
function driveRequest(id: string, pathOnHost: string): ApiRequest {
  return {
    method: 'PUT',
    path: `/drives/${id}`,
    body: { drive_id: id, path_on_host: pathOnHost, is_root_device: false, is_read_only: id !== 'scratch' },
  };
}

function networkRequest(network: { tapName: string; mac: string }): ApiRequest {
  return {
    method: 'PUT',
    path: `/network-interfaces/${NETWORK_INTERFACE_ID}`,
    body: { iface_id: NETWORK_INTERFACE_ID, host_dev_name: network.tapName, guest_mac: network.mac },
  };
}

/** Rejects inputs Firecracker would refuse, with a message naming the field. */
function checkPlanInput(input: BootPlanInput): void {
  const problems: string[] = [];
  const argsBytes = Buffer.byteLength(input.bootArgs, 'utf8');
  const appended = APPENDED_BY_FIRECRACKER_BYTES + (input.serviceDrives?.length ?? 0) * APPENDED_PER_SERVICE_DRIVE_BYTES;
  if (argsBytes > MAX_BOOT_ARGS_BYTES - appended) {
    problems.push(
      `kernel command line is ${argsBytes} bytes; Firecracker allows ${MAX_BOOT_ARGS_BYTES} including its own additions`,
    );
  }
  if (!Number.isInteger(input.vcpus) || input.vcpus < 1 || input.vcpus > MAX_VCPUS) {
    problems.push(`vcpus must be an integer from 1 to ${MAX_VCPUS} (got ${input.vcpus})`);
  }
  if (!Number.isInteger(input.memoryMb) || input.memoryMb < 1)
    problems.push(`memoryMb must be a positive integer (got ${input.memoryMb})`);
  if (!Number.isInteger(input.vsock.guestCid) || input.vsock.guestCid < 3) {
    problems.push(`vsock guest CID must be an integer ≥ 3 (got ${input.vsock.guestCid})`);
  }
  if (input.network !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(input.network.mac)) {
    problems.push(`guest MAC "${input.network.mac}" is not six colon-separated hex bytes`);
  }
  if (
    input.network !== undefined &&
    (input.network.tapName.length === 0 || Buffer.byteLength(input.network.tapName) > 15)
  ) {
    problems.push(`TAP name "${input.network.tapName}" must be 1–15 bytes`);
  }
  if (problems.length > 0) {
    throw new TartError(
      'FIRECRACKER_INVALID_SPEC',
      `cannot boot this VM under Firecracker: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
}
