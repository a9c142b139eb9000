// The VM executor: every job gets a VM from a provider (by default a fresh microVM from the guest
// image, reached over SSH with per-VM keys) and runs its stages in it; the environment's close()
// releases the VM. VMM-neutral: QEMU or Firecracker.
import type { Executor, JobEnvironment, PrepareOptions } from '../types.js';
import { PooledVmProvider, type PoolCounts } from './pool/pooled-vm-provider.js';
import { FreshVmProvider, type FreshVmProviderOptions, type VmStartTimings } from './fresh-vm-provider.js';
import { Writable } from 'node:stream';
import { TartError } from '../../errors.js';
import type { GuestChannel } from '../../guest/channel.js';
import {
  imageRootSetupCommand,
  isRootUser,
  parseResolvedUser,
  userStageCommand,
  type ResolvedUser,
} from './image-root.js';
import { prepareJobImage, type JobImageSettings } from './job-image.js';
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

  poolCounts(): PoolCounts | undefined {
    return this.provider instanceof PooledVmProvider ? this.provider.counts() : undefined;
  }

  async prepare(prepare: PrepareOptions): Promise<JobEnvironment> {
    // Pull failures and policy refusals are the job's, not the VM's: they surface as they are.
    const jobImage = this.jobImages
      ? await prepareJobImage(prepare.job, this.jobImages, prepare.log, prepare.signal)
      : undefined;
    if (!jobImage) {
      const vm = await this.provider.acquire({ name: `job${prepare.job.id}`, log: prepare.log }, prepare.signal);
      return new VmEnvironment(this.name, vm, this.provider);
    }
    let vm: AcquiredVm | undefined;
    try {
      vm = await this.provider.acquire(
        {
          name: `job${prepare.job.id}`,
          log: prepare.log,
          imageDigest: jobImage.image.entry.manifestDigest,
          imageDisk: jobImage.image.rootfsPath,
        },
        prepare.signal,
      );
      const user = await mountImageRoot(vm.channel, jobImage.image.config.user, prepare.signal);
      return new VmEnvironment(this.name, vm, this.provider, {
        userScriptCommand: userStageCommand(jobImage.image.config, jobImage.entrypoint, user),
        release: () => jobImage.image.release(),
      });
    } catch (error) {
      if (vm) await this.provider.release(vm);
      jobImage.image.release();
      throw error;
    }
  }
}

// One exec builds the image root and resolves the image's user; its output goes into the error
// on failure only.
async function mountImageRoot(
  channel: GuestChannel,
  user: string | undefined,
  signal: AbortSignal,
): Promise<ResolvedUser | undefined> {
  const output: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output.push(chunk);
      done();
    },
  });
  const command = imageRootSetupCommand('/builds', user);
  const { exitCode } = await channel.exec({ command, stdout: sink, stderr: sink, signal });
  const text = Buffer.concat(output).toString('utf8').trim();
  if (exitCode !== 0) {
    throw new TartError('IMAGE_ROOT_FAILED', `cannot mount the job's image in the VM (exit ${exitCode}): ${text}`);
  }
  if (user === undefined || isRootUser(user)) return undefined;
  const resolved = parseResolvedUser(text);
  if (!resolved) throw new TartError('IMAGE_ROOT_FAILED', `cannot resolve the image's user "${user}": ${text}`);
  return resolved;
}
