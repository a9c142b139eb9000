// The VM executor: every job gets a VM from a provider (by default a fresh microVM from the guest
// image, reached over SSH with per-VM keys) and runs its stages in it; the environment's close()
// releases the VM. VMM-neutral: QEMU or Firecracker.
import type { Executor, JobEnvironment, PrepareOptions } from '../types.js';
import { PooledVmProvider, type PoolCounts } from './pool/pooled-vm-provider.js';
import { FreshVmProvider, type FreshVmProviderOptions, type VmStartTimings } from './fresh-vm-provider.js';
import { VmEnvironment } from './vm-environment.js';
import type { VmProvider } from './vm-provider.js';

export type { VmNetworkProvider, VmStartTimings } from './fresh-vm-provider.js';
export type VmExecutorOptions = FreshVmProviderOptions;

export class VmExecutor implements Executor {
  readonly name: string;
  readonly provider: VmProvider;
  private readonly fresh: FreshVmProvider | undefined;

  /** A fresh VM per job from `options`, or any other provider (a pool, a snapshot restore). */
  constructor(options: VmExecutorOptions | { provider: VmProvider }) {
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
    const vm = await this.provider.acquire(
      { name: `job${prepare.job.id}`, log: prepare.log },
      prepare.signal,
    );
    return new VmEnvironment(this.name, vm, this.provider);
  }
}
