// The VM executor: every job gets a VM from a provider (by default a fresh microVM from the guest
// image, reached over SSH with per-VM keys) and runs its stages in it; the environment's close()
// releases the VM. VMM-neutral: QEMU or Firecracker.
import type { Executor, JobEnvironment, PrepareOptions } from '../types.js';
import type { PoolSettings } from '../pool-settings.js';
import { PooledVmProvider, type PoolCounts } from './pool/pooled-vm-provider.js';
import { FreshVmProvider, type FreshVmProviderOptions, type VmStartTimings } from './fresh-vm-provider.js';
import { TartError } from '../../errors.js';
import { execCollecting } from './guest-exec.js';
import {
  imageRootSetupCommand,
  resolvedUserOf,
  userStageCommand,
  type ResolvedUser,
} from './image-root.js';
import { prepareJobImage, sharedVolumesOf, type JobImageSettings } from './job-image.js';
import { prepareJobServices, type PreparedService } from './job-services.js';
import { VmServices } from './service-runtime.js';
import { VmEnvironment } from './vm-environment.js';
import type { AcquiredVm, VmProvider } from './vm-provider.js';

export type { VmNetworkProvider, VmStartTimings } from './fresh-vm-provider.js';
export type VmExecutorOptions = FreshVmProviderOptions;

export class VmExecutor implements Executor {
  readonly name: string;
  readonly provider: VmProvider;
  private readonly fresh: FreshVmProvider | undefined;

  /** A fresh VM per job from `options`, or any other provider (a pool, a snapshot restore). */
  /** `jobImages`: `image:` support (src/oci); absent = every job runs in Tart's own root. */
  constructor(
    options: VmExecutorOptions | { provider: VmProvider },
    private readonly jobImages?: JobImageSettings,
  ) {
    if ('provider' in options) {
      this.provider = options.provider;
    } else {
      this.fresh = new FreshVmProvider(options);
      this.provider = this.fresh;
    }
    this.name = this.provider.name;
  }

  /** Phase timings of the last VM booted by the default provider, for bench/vm-start. */
  get lastTimings(): VmStartTimings | undefined {
    return this.fresh?.lastTimings;
  }

  start(): void {
    this.provider.start?.();
  }

  async dispose(): Promise<void> {
    await this.provider.dispose?.();
  }

  resizePool(settings: PoolSettings): boolean {
    if (!(this.provider instanceof PooledVmProvider)) return settings.idleCount <= 0;
    this.provider.resize({
      idleCount: settings.idleCount,
      idleTimeMs: settings.idleTimeSeconds * 1000,
      maxVms: settings.maxVms,
    });
    return true;
  }

  poolCounts(): PoolCounts | undefined {
    return this.provider instanceof PooledVmProvider ? this.provider.counts() : undefined;
  }

  async prepare(prepare: PrepareOptions): Promise<JobEnvironment> {
    // Pull failures and policy refusals are the job's, not the VM's: they surface as they are.
    // Every image (the job's, then each service's) is pulled before a VM is acquired.
    const jobImage = this.jobImages
      ? await prepareJobImage(prepare.job, this.jobImages, prepare.log, prepare.signal)
      : undefined;
    let services: PreparedService[] = [];
    let vm: AcquiredVm | undefined;
    try {
      if (this.jobImages) services = await prepareJobServices(prepare.job, this.jobImages, prepare.log, prepare.signal);
      // The runner's volumes, shared by the job's root and every service's (roots only a job in an image or with services has).
      const shared = sharedVolumesOf(jobImage || services.length > 0 ? (this.jobImages?.volumes ?? []) : []);
      for (const warning of shared.warnings) prepare.log(warning);
      const root = jobImage?.root;
      // The guest image's own tools build the roots: the job image's during boot (the guest's init), each service's after.
      const tools = root || services.length > 0 ? ((await this.provider.guestTools?.()) ?? {}) : {};
      const imageRoot = root ? imageRootSetupCommand('/builds', root, tools) : undefined;
      vm = await this.provider.acquire(
        {
          name: `job${prepare.job.id}`,
          log: prepare.log,
          ...(jobImage && imageRoot
            ? { imageDigest: jobImage.image.entry.manifestDigest, imageDisk: jobImage.image.rootfsPath, bootCommand: imageRoot }
            : {}),
          ...(services.length > 0
            ? { serviceDigests: services.map((service) => service.image.entry.manifestDigest), serviceDisks: services.map((service) => service.image.rootfsPath) }
            : {}),
        },
        prepare.signal,
      );
      const user = root && imageRoot ? await mountImageRoot(vm, imageRoot, root.user, prepare.signal) : undefined;
      const running =
        services.length > 0
          ? new VmServices(vm.channel, services, { buildsDir: '/builds', hasJobImage: jobImage !== undefined, waitForServicesTimeout: this.jobImages?.waitForServicesTimeout, sharedVolumes: shared.paths, tools })
          : undefined;
      // After the job image's root: the aliases go into its /etc/hosts too.
      await running?.mount(prepare.signal);
      return new VmEnvironment(this.name, vm, this.provider, {
        ...(jobImage ? { image: { userScriptCommand: userStageCommand(jobImage.image.config, jobImage.entrypoint, user), ...(user ? { user } : {}), release: () => jobImage.image.release() } } : {}),
        ...(running ? { services: running } : {}),
      });
    } catch (error) {
      if (vm) await this.provider.release(vm);
      jobImage?.image.release();
      for (const service of services) service.image.release();
      throw error;
    }
  }
}

// The guest's init built the image root and resolved the image's user during boot (the VM's boot
// command); a guest that did not report it gets the same command as one exec. Its output goes
// into the error on failure only.
async function mountImageRoot(
  vm: AcquiredVm,
  command: readonly string[],
  user: string | undefined,
  signal: AbortSignal,
): Promise<ResolvedUser | undefined> {
  const { exitCode, output } = vm.bootCommandResult ?? (await execCollecting(vm.channel, { command: [...command], signal }));
  const text = output.trim();
  if (exitCode !== 0) {
    throw new TartError('IMAGE_ROOT_FAILED', `cannot mount the job's image in the VM (exit ${exitCode}): ${text}`);
  }
  const resolved = resolvedUserOf(user, text);
  if (resolved === 'unresolved') throw new TartError('IMAGE_ROOT_FAILED', `cannot resolve the image's user "${user}": ${text}`);
  return resolved;
}
