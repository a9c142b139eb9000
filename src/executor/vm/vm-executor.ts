// The VM executor: every job gets a fresh microVM from the guest image, reached over SSH with
// per-VM keys, and destroyed by the environment's close(). VMM-neutral: QEMU or Firecracker.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TartError } from '../../errors.js';
import { connectGuest } from '../../guest/connect.js';
import { generateVmKeys } from '../../guest/keys.js';
import type { GuestSession } from '../../guest/session.js';
import { IMAGE_FILES, readImageManifest, type ImageManifest } from '../../image/layout.js';
import { createScratchDisk, createSeedDisk } from '../../vmm/disks.js';
import { GUEST_READY_MARKER, USER_MODE_NETWORK, type GuestNetworkConfig } from '../../vmm/guest-contract.js';
import type { VmInstance, VmNetwork, Vmm } from '../../vmm/types.js';
import type { Executor, JobEnvironment, PrepareOptions } from '../types.js';
import { freeLoopbackPort } from './free-port.js';
import { createRuntimeDir, readState, removeRuntimeDir, writeState } from './runtime-dir.js';
import { VmEnvironment } from './vm-environment.js';

/** Network for one VM; absent = QEMU user-mode networking. */
export type VmNetworkProvider = (vmId: string) => Promise<{ vm: VmNetwork; guest: GuestNetworkConfig; release: () => Promise<void> }>;

export interface VmExecutorOptions {
  vmm: Vmm;
  /** The image directory (kernel, initrd, rootfs, manifest). */
  imageDir: string;
  vcpus: number;
  memoryMb: number;
  diskSizeMb: number;
  bootTimeoutSeconds: number;
  runtimeRoot: string;
  network?: VmNetworkProvider;
  /** Which kernel the VMM boots: QEMU takes the bzImage, Firecracker the ELF vmlinux. */
  kernel?: 'bzImage' | 'vmlinux';
}

/** Phase timings of the last prepared VM, for bench/vm-start. */
export interface VmStartTimings {
  diskPrepMs: number;
  vmmSpawnMs: number;
  readyMarkerMs: number;
  sshConnectMs: number;
  totalMs: number;
}

export class VmExecutor implements Executor {
  readonly name: string;
  lastTimings: VmStartTimings | undefined;
  private manifest: Promise<ImageManifest> | undefined;

  constructor(private readonly options: VmExecutorOptions) {
    this.name = options.vmm.name;
  }

  async prepare(prepare: PrepareOptions): Promise<JobEnvironment> {
    const { options } = this;
    const started = Date.now();
    const manifest = await this.readManifest();
    prepare.log(`Using ${await options.vmm.describe()} with image ${manifest.version} (kernel ${manifest.kernelRelease})...`);
    const vmId = `job${prepare.job.id}-${randomBytes(4).toString('hex')}`;
    const runtimeDir = await createRuntimeDir(options.runtimeRoot, vmId);
    let vm: VmInstance | undefined;
    let session: GuestSession | undefined;
    let releaseNetwork: () => Promise<void> = async () => undefined;
    try {
      const keys = generateVmKeys(vmId);
      const network = options.network
        ? await options.network(vmId)
        : { vm: { mode: 'user', sshForwardPort: await freeLoopbackPort() } as VmNetwork, guest: USER_MODE_NETWORK, release: async () => undefined };
      releaseNetwork = network.release;
      const disks = { rootfs: join(options.imageDir, IMAGE_FILES.rootfs), scratch: join(runtimeDir, 'scratch.img'), seed: join(runtimeDir, 'seed.tar') };
      await createScratchDisk(disks.scratch, options.diskSizeMb);
      await createSeedDisk(disks.seed, {
        authorizedKeys: keys.client.publicKey,
        hostPrivateKey: keys.host.privateKey,
        hostPublicKey: keys.host.publicKey,
        network: network.guest,
        hostname: `runner-${vmId}`,
      });
      const diskReady = Date.now();
      prepare.log(`Starting VM ${vmId} (${options.vcpus} vCPU, ${options.memoryMb} MiB)...`);
      const useVmlinux = options.kernel === 'vmlinux';
      vm = await options.vmm.start(
        {
          id: vmId,
          vcpus: options.vcpus,
          memoryMb: options.memoryMb,
          kernelPath: join(options.imageDir, useVmlinux ? IMAGE_FILES.vmlinux : IMAGE_FILES.kernel),
          initrdPath: join(options.imageDir, IMAGE_FILES.initrd),
          kernelCmdline: useVmlinux ? manifest.kernelCmdlineFirecracker : manifest.kernelCmdline,
          disks,
          network: network.vm,
          consoleLogPath: join(runtimeDir, 'console.log'),
          runtimeDir,
        },
        prepare.signal,
      );
      const state = await readState(runtimeDir);
      if (state) await writeState(runtimeDir, { ...state, vmmPid: vm.pid });
      const spawned = Date.now();
      const deadline = started + options.bootTimeoutSeconds * 1000;
      await waitForGuest(vm, deadline, prepare.signal);
      const markerSeen = Date.now();
      session = await connectGuest({
        endpoint: vm.sshEndpoint,
        clientPrivateKey: keys.client.privateKey,
        hostPublicKey: keys.host.publicKey,
        timeoutMs: Math.max(1000, deadline - Date.now()),
        signal: prepare.signal,
      });
      const connected = Date.now();
      this.lastTimings = {
        diskPrepMs: diskReady - started,
        vmmSpawnMs: spawned - diskReady,
        readyMarkerMs: markerSeen - spawned,
        sshConnectMs: connected - markerSeen,
        totalMs: connected - started,
      };
      prepare.log(`VM ready in ${((connected - started) / 1000).toFixed(1)} s`);
      return new VmEnvironment(this.name, session, vm, runtimeDir, releaseNetwork);
    } catch (error) {
      const tail = vm?.consoleTail(3000).trim();
      session?.close();
      await vm?.stop({ graceMs: 0 }).catch(() => undefined);
      await releaseNetwork().catch(() => undefined);
      await removeRuntimeDir(runtimeDir);
      if (prepare.signal.aborted) throw error;
      if (tail) for (const line of tail.split('\n').slice(-25)) prepare.log(`  console: ${line.trimEnd()}`);
      throw new TartError('VM_BOOT_FAILED', `the VM did not become ready: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        details: { consoleTail: tail },
      });
    }
  }

  private readManifest(): Promise<ImageManifest> {
    this.manifest ??= readImageManifest(this.options.imageDir).catch((error: unknown) => {
      this.manifest = undefined;
      throw new TartError('IMAGE_MISSING', `no usable guest image in ${this.options.imageDir}: as root, run "sudo tart image build"`, { cause: error });
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
        timer = setTimeout(() => reject(new TartError('BOOT_TIMEOUT', 'boot timed out before sshd started')), Math.max(0, deadline - Date.now()));
      }),
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
