// The provider that boots a fresh microVM from the guest image for every acquire: runtime dir,
// per-VM keys, network, disks, VMM, ready marker, SSH. Every step registers a named undo step,
// run newest first when a later one fails; release() runs the same teardown for a ready VM.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TartError } from '../../errors.js';
import type { GuestChannel } from '../../guest/channel.js';
import { connectGuest } from '../../guest/ssh/connect.js';
import { generateVmKeys } from '../../guest/ssh/keys.js';
import { IMAGE_FILES, readImageManifest, type ImageManifest } from '../../image/layout.js';
import { releaseRecordedLease, type TapLeaseRecord } from '../../net/index.js';
import { createScratchDisk, createSeedDisk } from '../../vmm/disks.js';
import {
  GUEST_READY_MARKER,
  readBootCommandResult,
  GUEST_SSH_USER,
  USER_MODE_NETWORK,
  type GuestNetworkConfig,
} from '../../vmm/guest-contract.js';
import type { VmInstance, VmNetwork, Vmm } from '../../vmm/types.js';
import { UndoStack } from '../../vmm/undo-stack.js';
import { stopDetachedVmm } from './detached-vmm.js';
import { freeLoopbackPort } from './free-port.js';
import { createRuntimeDir, readState, removeRuntimeDir } from './runtime-dir.js';
import { readCredentials, writeCredentials, writeHandle, type VmHandle } from './vm-handle.js';
import type { GuestTools } from './image-root.js';
import type { AcquiredVm, VmProvider, VmRequest } from './vm-provider.js';

/**
 * Network for one VM; absent = QEMU user-mode networking. `record` goes into the VM's handle, so a
 * process that takes the VM over can release the network too (releaseRecordedLease).
 */
export type VmNetworkProvider = (vmId: string) => Promise<{
  vm: VmNetwork;
  guest: GuestNetworkConfig;
  record: TapLeaseRecord;
  release: () => Promise<void>;
}>;

export interface FreshVmProviderOptions {
  vmm: Vmm;
  /** The image directory (kernel, initrd, rootfs, manifest). */
  imageDir: string;
  vcpus: number;
  memoryMb: number;
  diskSizeMb: number;
  bootTimeoutSeconds: number;
  runtimeRoot: string;
  network?: VmNetworkProvider;
  /** Which kernel the VMM boots: Firecracker takes the ELF vmlinux; QEMU either (bzImage by default). */
  kernel?: 'bzImage' | 'vmlinux';
  /**
   * Keeps a user-mode VM off the host's own services (src/net/host-guard.ts): entered before its
   * VMM starts, a failure fails the VM; the returned leave runs once the VMM has stopped.
   */
  hostGuard?: () => Promise<() => Promise<void>>;
}

/** Phase timings of the last acquired VM, for bench/vm-start. */
export interface VmStartTimings {
  diskPrepMs: number;
  vmmSpawnMs: number;
  readyMarkerMs: number;
  sshConnectMs: number;
  totalMs: number;
}

export class FreshVmProvider implements VmProvider {
  readonly name: string;
  lastTimings: VmStartTimings | undefined;
  private manifest: Promise<ImageManifest> | undefined;
  /** Teardown of the VMs this process booted (the VMM child and the network lease live here). */
  private readonly owned = new Map<string, { undo: UndoStack; stopGrace: { ms: number } }>();
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(private readonly options: FreshVmProviderOptions) {
    this.name = options.vmm.name;
  }

  async acquire(request: VmRequest, signal: AbortSignal): Promise<AcquiredVm> {
    const { options } = this;
    const started = Date.now();
    const manifest = await this.readManifest();
    request.log(
      `Using ${await options.vmm.describe()} with image ${manifest.version} (kernel ${manifest.kernelRelease})...`,
    );
    const vmId = `${request.name}-${randomBytes(4).toString('hex')}`;
    const runtimeDir = await createRuntimeDir(options.runtimeRoot, vmId);
    const undo = new UndoStack();
    // A failed boot is killed at once; a released VM gets a second to shut down.
    const stopGrace = { ms: 0 };
    undo.push('remove runtime dir', () => removeRuntimeDir(runtimeDir));
    let vm: VmInstance | undefined;
    try {
      const keys = generateVmKeys(vmId);
      const credentials = await writeCredentials(runtimeDir, keys.client.privateKey);
      const network = options.network
        ? await options.network(vmId)
        : {
            vm: { mode: 'user', sshForwardPort: await freeLoopbackPort() } as VmNetwork,
            guest: USER_MODE_NETWORK,
            record: undefined,
            release: async () => undefined,
          };
      undo.push('release network', network.release);
      if (!options.network && options.hostGuard) undo.push('leave the host guard', await options.hostGuard());
      const disks = {
        rootfs: join(options.imageDir, IMAGE_FILES.rootfs),
        scratch: join(runtimeDir, 'scratch.img'),
        seed: join(runtimeDir, 'seed.tar'),
        ...(request.imageDisk ? { jobImage: request.imageDisk } : {}),
        ...(request.serviceDisks?.length ? { services: request.serviceDisks } : {}),
      };
      await createScratchDisk(disks.scratch, options.diskSizeMb);
      await createSeedDisk(disks.seed, {
        authorizedKeys: keys.client.publicKey,
        hostPrivateKey: keys.host.privateKey,
        hostPublicKey: keys.host.publicKey,
        network: network.guest,
        hostname: `runner-${vmId}`,
        ...(request.bootCommand ? { bootCommand: request.bootCommand } : {}),
      });
      const diskReady = Date.now();
      request.log(`Starting VM ${vmId} (${options.vcpus} vCPU, ${options.memoryMb} MiB)...`);
      const useVmlinux = options.kernel === 'vmlinux';
      const instance = await options.vmm.start(
        {
          id: vmId,
          vcpus: options.vcpus,
          memoryMb: options.memoryMb,
          kernelPath: join(options.imageDir, useVmlinux ? IMAGE_FILES.vmlinux : IMAGE_FILES.kernel),
          initrdPath: join(options.imageDir, IMAGE_FILES.initrd),
          // The command line belongs to the VMM (reboot=k for Firecracker), not to the kernel format.
          kernelCmdline: options.vmm.name === 'firecracker' ? manifest.kernelCmdlineFirecracker : manifest.kernelCmdline,
          disks,
          network: network.vm,
          consoleLogPath: join(runtimeDir, 'console.log'),
          runtimeDir,
        },
        signal,
      );
      vm = instance;
      undo.push('stop VMM', () => instance.stop({ graceMs: stopGrace.ms }));
      request.onSpawned?.(instance.pid);
      const state = await readState(runtimeDir);
      const handle: VmHandle = {
        vmId,
        runnerPid: state?.runnerPid ?? process.pid,
        createdAt: state?.createdAt ?? new Date().toISOString(),
        vmm: options.vmm.name,
        vmmPid: instance.pid,
        runtimeDir,
        sockets: instance.sockets ?? {},
        channel: {
          kind: 'ssh',
          endpoint: instance.sshEndpoint,
          user: GUEST_SSH_USER,
          hostPublicKey: keys.host.publicKey,
        },
        credentials: { kind: 'file', path: credentials },
        network: network.record ? { mode: 'tap', lease: network.record } : { mode: 'user' },
      };
      await writeHandle(handle);
      const spawned = Date.now();
      const deadline = started + options.bootTimeoutSeconds * 1000;
      await waitForGuest(instance, deadline, signal);
      const markerSeen = Date.now();
      // The guest reports its boot command before the marker: the console holds it by now.
      const bootCommandResult = request.bootCommand ? readBootCommandResult(instance.consoleTail(64 * 1024)) : undefined;
      const channel = await this.connect(handle, keys.client.privateKey, deadline, signal);
      undo.push('close guest channel', () => channel.close());
      const connected = Date.now();
      this.lastTimings = {
        diskPrepMs: diskReady - started,
        vmmSpawnMs: spawned - diskReady,
        readyMarkerMs: markerSeen - spawned,
        sshConnectMs: connected - markerSeen,
        totalMs: connected - started,
      };
      request.log(`VM ready in ${((connected - started) / 1000).toFixed(1)} s`);
      this.owned.set(vmId, { undo, stopGrace });
      return { handle, channel, ...(bootCommandResult ? { bootCommandResult } : {}) };
    } catch (error) {
      const tail = vm?.consoleTail(3000).trim();
      await undo.run();
      if (signal.aborted) throw error;
      if (tail) for (const line of tail.split('\n').slice(-25)) request.log(`  console: ${line.trimEnd()}`);
      throw new TartError(
        'VM_BOOT_FAILED',
        `the VM did not become ready: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { consoleTail: tail } },
      );
    }
  }

  async guestTools(): Promise<GuestTools> {
    const { helperBusybox } = await this.readManifest();
    return helperBusybox === undefined ? {} : { helperBusybox };
  }

  async attach(handle: VmHandle, signal?: AbortSignal): Promise<AcquiredVm> {
    const privateKey = await readCredentials(handle);
    const deadline = Date.now() + this.options.bootTimeoutSeconds * 1000;
    return { handle, channel: await this.connect(handle, privateKey, deadline, signal) };
  }

  release(vm: AcquiredVm): Promise<void> {
    const { vmId } = vm.handle;
    let releasing = this.releasing.get(vmId);
    if (!releasing) {
      releasing = this.teardown(vm).catch(() => undefined);
      this.releasing.set(vmId, releasing);
    }
    return releasing;
  }

  // A VM booted here stops through its VMM child; one booted elsewhere through its handle.
  private async teardown(vm: AcquiredVm): Promise<void> {
    const owned = this.owned.get(vm.handle.vmId);
    this.owned.delete(vm.handle.vmId);
    if (owned) {
      owned.stopGrace.ms = 1000;
      await owned.undo.run();
      return;
    }
    vm.channel.close();
    await stopDetachedVmm(vm.handle, { graceMs: 1000 });
    if (vm.handle.network.mode === 'tap') await releaseRecordedLease(vm.handle.network.lease);
    await removeRuntimeDir(vm.handle.runtimeDir);
  }

  private async connect(
    handle: VmHandle,
    clientPrivateKey: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<GuestChannel> {
    return connectGuest({
      endpoint: handle.channel.endpoint,
      clientPrivateKey,
      hostPublicKey: handle.channel.hostPublicKey,
      timeoutMs: Math.max(1000, deadline - Date.now()),
      signal,
    });
  }

  private readManifest(): Promise<ImageManifest> {
    this.manifest ??= readImageManifest(this.options.imageDir).catch((error: unknown) => {
      this.manifest = undefined;
      throw new TartError(
        'IMAGE_MISSING',
        `no usable guest image in ${this.options.imageDir}: as root, run "sudo tart image build"`,
        { cause: error },
      );
    });
    return this.manifest;
  }
}

// The guest's init prints the ready marker once sshd runs; a VMM that exits first failed to boot.
async function waitForGuest(vm: VmInstance, deadline: number, signal: AbortSignal): Promise<void> {
  if (!vm.waitForConsole) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      vm.waitForConsole(GUEST_READY_MARKER),
      vm.exited.then((exit) => {
        throw new TartError('VMM_EXITED', `the VMM exited during boot (${exit.code ?? exit.signal})`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new TartError('BOOT_TIMEOUT', 'boot timed out before sshd started')),
          Math.max(0, deadline - Date.now()),
        );
      }),
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
