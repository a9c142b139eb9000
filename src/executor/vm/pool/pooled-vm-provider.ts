// A warm pool in front of another provider: keeps `idleCount` VMs booted and ready, hands each to
// exactly one job (release destroys it, as always), and refills in the background, one boot at a
// time, at a lower CPU priority, within the runner's VM budget. A job whose boot key has no ready
// VM boots cold through the inner provider. Idle VMs are replaced after `idleTimeMs`, destroyed
// by dispose(), and SIGKILLed if the process exits without it; after a SIGKILL of the daemon
// itself the reaper finds them by their handles (runtime dirs owned by a dead pid).
import { setTimeout as sleep } from 'node:timers/promises';
import { isTheVmm } from '../detached-vmm.js';
import { writeHandle } from '../vm-handle.js';
import type { AcquiredVm, VmProvider, VmRequest } from '../vm-provider.js';
import { DEFAULT_BOOT_KEY, bootKeyOf, bootKeyString } from './boot-key.js';
import { BACKGROUND_NICENESS, setProcessNiceness } from './cpu-priority.js';

export interface WarmPoolOptions {
  /** VMs kept ready ([runners.vm] idle_count). */
  idleCount: number;
  /** How long a VM may wait for a job before it is replaced (ms; 0 = never). */
  idleTimeMs: number;
  /** Most VMs this runner may have at once, pooled and in use: its `limit` within `concurrent`. */
  maxVms: number;
  /** The pool's own events (boots, failures, recycling), for the daemon log. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Pause after a failed pooled boot before the next one. */
  retryDelayMs?: number;
}

export interface PoolCounts {
  booting: number;
  idle: number;
  in_use: number;
}

interface IdleVm {
  vm: AcquiredVm;
  key: string;
  readySince: number;
  recycle?: NodeJS.Timeout;
}

export class PooledVmProvider implements VmProvider {
  readonly name: string;
  private readonly idle: IdleVm[] = [];
  private readonly handedOut = new Set<string>();
  private booting: { abort: AbortController; pid?: number } | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private disposed = false;
  private readonly disposal = new AbortController();
  private readonly killOnExit = () => this.killIdleNow();

  constructor(
    private readonly inner: VmProvider,
    private readonly options: WarmPoolOptions,
  ) {
    this.name = inner.name;
  }

  /** Starts filling the pool. */
  start(): void {
    if (this.loop || this.disposed || this.options.idleCount <= 0) return;
    process.on('exit', this.killOnExit);
    this.loop = this.refillLoop();
  }

  counts(): PoolCounts {
    return { booting: this.booting ? 1 : 0, idle: this.idle.length, in_use: this.handedOut.size };
  }

  async acquire(request: VmRequest, signal: AbortSignal): Promise<AcquiredVm> {
    signal.throwIfAborted();
    const pooled = this.takeIdle(bootKeyString(bootKeyOf(request)));
    if (pooled) {
      this.handedOut.add(pooled.vm.handle.vmId);
      setProcessNiceness(pooled.vm.handle.vmmPid, 0);
      const handle = { ...pooled.vm.handle, pool: { key: pooled.key, state: 'in-use' as const } };
      await writeHandle(handle).catch(() => undefined);
      const waited = ((Date.now() - pooled.readySince) / 1000).toFixed(1);
      request.log(`Using pooled VM ${handle.vmId} (ready for ${waited} s)`);
      this.nudge();
      return { ...pooled.vm, handle };
    }
    // No ready VM of this key: a cold boot, which counts against the budget while it runs.
    const placeholder = `cold-${Math.random()}`;
    this.handedOut.add(placeholder);
    try {
      const vm = await this.inner.acquire(request, signal);
      this.handedOut.add(vm.handle.vmId);
      return vm;
    } finally {
      this.handedOut.delete(placeholder);
      this.nudge();
    }
  }

  attach(handle: AcquiredVm['handle'], signal?: AbortSignal): Promise<AcquiredVm> {
    return this.inner.attach(handle, signal);
  }

  async release(vm: AcquiredVm): Promise<void> {
    await this.inner.release(vm);
    this.handedOut.delete(vm.handle.vmId);
    this.nudge();
  }

  /** Stops refilling and destroys every idle and booting VM. VMs handed out stay with their jobs. */
  async dispose(): Promise<void> {
    if (this.disposed) return this.loop;
    this.disposed = true;
    this.disposal.abort();
    this.booting?.abort.abort(new Error('the VM pool is shutting down'));
    this.nudge();
    const idle = this.idle.splice(0);
    for (const entry of idle) clearTimeout(entry.recycle);
    await Promise.all([...idle.map((entry) => this.inner.release(entry.vm)), this.loop]);
    process.off('exit', this.killOnExit);
  }

  private async refillLoop(): Promise<void> {
    while (!this.disposed) {
      if (!this.wantsAnother()) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (!(await this.bootOne()) && !this.disposed)
        await sleep(this.options.retryDelayMs ?? 10_000, undefined, { signal: this.disposal.signal }).catch(
          () => undefined,
        );
    }
  }

  private wantsAnother(): boolean {
    const total = this.idle.length + this.handedOut.size;
    return this.idle.length < this.options.idleCount && total < this.options.maxVms;
  }

  // One VM for the default root; true when it joined the pool.
  private async bootOne(): Promise<boolean> {
    const booting: { abort: AbortController; pid?: number } = { abort: new AbortController() };
    this.booting = booting;
    const started = Date.now();
    try {
      const vm = await this.inner.acquire(
        {
          name: 'pool',
          log: () => undefined,
          onSpawned: (pid) => {
            booting.pid = pid;
            setProcessNiceness(pid, BACKGROUND_NICENESS);
          },
        },
        booting.abort.signal,
      );
      // vCPU threads started after the first renice get it too.
      setProcessNiceness(vm.handle.vmmPid, BACKGROUND_NICENESS);
      if (this.disposed) {
        await this.inner.release(vm);
        return false;
      }
      const key = bootKeyString(DEFAULT_BOOT_KEY);
      const handle = { ...vm.handle, pool: { key, state: 'idle' as const } };
      await writeHandle(handle);
      const entry: IdleVm = { vm: { ...vm, handle }, key, readySince: Date.now() };
      if (this.options.idleTimeMs > 0) {
        entry.recycle = setTimeout(() => void this.recycle(entry), this.options.idleTimeMs);
        entry.recycle.unref();
      }
      this.idle.push(entry);
      this.options.log?.('pooled VM ready', { vm: handle.vmId, boot_seconds: (Date.now() - started) / 1000 });
      return true;
    } catch (error) {
      if (!this.disposed)
        this.options.log?.('booting a pooled VM failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      return false;
    } finally {
      this.booting = undefined;
    }
  }

  // The first ready VM of `key` whose VMM still runs; dead ones are destroyed on the way.
  private takeIdle(key: string): IdleVm | undefined {
    for (let index = 0; index < this.idle.length; ) {
      const entry = this.idle[index] as IdleVm;
      if (entry.key !== key) {
        index += 1;
        continue;
      }
      this.idle.splice(index, 1);
      clearTimeout(entry.recycle);
      if (isTheVmm(entry.vm.handle)) return entry;
      this.options.log?.('pooled VM died while idle', { vm: entry.vm.handle.vmId });
      void this.inner.release(entry.vm);
    }
    return undefined;
  }

  private async recycle(entry: IdleVm): Promise<void> {
    const index = this.idle.indexOf(entry);
    if (index < 0) return;
    this.idle.splice(index, 1);
    this.options.log?.('replacing a pooled VM that waited idle_time', { vm: entry.vm.handle.vmId });
    await this.inner.release(entry.vm);
    this.nudge();
  }

  private nudge(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  // Process exit without dispose(): no idle VM may outlive the daemon.
  private killIdleNow(): void {
    const handles = this.idle.map((entry) => entry.vm.handle);
    const pids = handles.filter((handle) => isTheVmm(handle)).map((handle) => handle.vmmPid);
    if (this.booting?.pid) pids.push(this.booting.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
