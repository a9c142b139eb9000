// A warm pool in front of another provider: keeps `idleCount` VMs booted and ready, hands each to
// exactly one job (release destroys it, as always), and refills in the background, one boot at a
// time, at a lower CPU priority, within the runner's VM budget. A job whose boot key has no ready
// VM boots cold through the inner provider. Idle VMs are replaced after `idleTimeMs`, destroyed
// by dispose(), and SIGKILLed if the process exits without it; after a SIGKILL of the daemon
// itself the reaper finds them by their handles (runtime dirs owned by a dead pid). resize()
// applies a reloaded idle_count, idle_time and VM budget in place: the VMs already ready stay.
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { isTheVmm } from '../detached-vmm.js';
import { writeHandle } from '../vm-handle.js';
import type { GuestTools } from '../image-root.js';
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
  /**
   * What a pooled VM boots with besides the default root: the runner's default container image
   * (pulled, held in the store until a job takes the VM or it is destroyed, and its root built
   * during boot). Undefined, or resolving to undefined: the default root.
   */
  prepareBoot?: (signal: AbortSignal) => Promise<PooledBootSpec | undefined>;
}

/** A pooled VM's container image: the request's image fields, and the store lease to let go. */
export interface PooledBootSpec {
  request: Pick<VmRequest, 'imageDigest' | 'imageDisk' | 'bootCommand'>;
  release(): void;
}

/** What a config reload may change in a running pool. */
export type PoolSize = Pick<WarmPoolOptions, 'idleCount' | 'idleTimeMs' | 'maxVms'>;

export interface PoolCounts {
  booting: number;
  idle: number;
  in_use: number;
}

interface PooledBoot {
  abort: AbortController;
  pid?: number;
  /** Set when a resize made this boot one VM too many: it ends without a failure. */
  surplus?: boolean;
}

interface IdleVm {
  vm: AcquiredVm;
  key: string;
  readySince: number;
  recycle?: NodeJS.Timeout;
  /** Lets go of its container image in the store (a job that takes it holds its own). */
  release?: () => void;
}

export class PooledVmProvider implements VmProvider {
  readonly name: string;
  private readonly idle: IdleVm[] = [];
  private readonly handedOut = new Set<string>();
  /** Releases of idle VMs the pool dropped (shrunk, recycled, dead), awaited by dispose(). */
  private readonly destroying = new Set<Promise<void>>();
  private booting: PooledBoot | undefined;
  private size: PoolSize;
  private started = false;
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
    this.size = { idleCount: options.idleCount, idleTimeMs: options.idleTimeMs, maxVms: options.maxVms };
  }

  /** Starts filling the pool. */
  start(): void {
    this.started = true;
    this.startRefilling();
  }

  /**
   * Applies new settings to the running pool: surplus idle VMs are destroyed (never one handed
   * out), missing ones boot in the background one at a time, and the VMs that stay idle get their
   * idle_time deadline recomputed from when they became ready.
   */
  resize(size: PoolSize): void {
    if (this.disposed || isDeepStrictEqual(size, this.size)) return;
    this.size = { ...size };
    const keep = Math.max(0, Math.min(size.idleCount, size.maxVms - this.handedOut.size));
    // The oldest go first: they are the next to reach idle_time anyway.
    const surplus = this.idle.splice(0, Math.max(0, this.idle.length - keep));
    for (const entry of surplus) {
      clearTimeout(entry.recycle);
      this.options.log?.('destroying a pooled VM: the pool shrank', { vm: entry.vm.handle.vmId });
      void this.destroy(entry);
    }
    for (const entry of this.idle) this.scheduleRecycle(entry);
    if (this.booting && this.idle.length >= keep) {
      this.options.log?.('cancelling a pooled boot: the pool shrank');
      this.booting.surplus = true;
      this.booting.abort.abort(new Error('the VM pool shrank'));
    }
    this.startRefilling();
    this.nudge();
  }

  /** The settings in effect (the last resize's, or the constructor's). */
  get settings(): PoolSize {
    return { ...this.size };
  }

  counts(): PoolCounts {
    return { booting: this.booting ? 1 : 0, idle: this.idle.length, in_use: this.handedOut.size };
  }

  async acquire(request: VmRequest, signal: AbortSignal): Promise<AcquiredVm> {
    signal.throwIfAborted();
    const pooled = this.takeIdle(bootKeyString(bootKeyOf(request)));
    if (pooled) {
      pooled.release?.();
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

  async guestTools(): Promise<GuestTools> {
    return (await this.inner.guestTools?.()) ?? {};
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
    await Promise.all([...idle.map((entry) => this.inner.release(entry.vm).finally(() => entry.release?.())), ...this.destroying, this.loop]);
    process.off('exit', this.killOnExit);
  }

  // The refill loop runs once start() was called and the pool wants VMs; it then lives until dispose().
  private startRefilling(): void {
    if (this.loop || !this.started || this.disposed || this.size.idleCount <= 0) return;
    process.on('exit', this.killOnExit);
    this.loop = this.refillLoop();
  }

  private async refillLoop(): Promise<void> {
    while (!this.disposed) {
      if (!this.wantsAnother()) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if ((await this.bootOne()) === 'failed' && !this.disposed)
        await sleep(this.options.retryDelayMs ?? 10_000, undefined, { signal: this.disposal.signal }).catch(
          () => undefined,
        );
    }
  }

  private wantsAnother(): boolean {
    const total = this.idle.length + this.handedOut.size;
    return this.idle.length < this.size.idleCount && total < this.size.maxVms;
  }

  // One VM for the default root (or the runner's default image), which joined the pool, failed,
  // or was one too many after a resize.
  private async bootOne(): Promise<'joined' | 'failed' | 'surplus'> {
    const booting: PooledBoot = { abort: new AbortController() };
    this.booting = booting;
    const started = Date.now();
    let spec: PooledBootSpec | undefined;
    let joined = false;
    try {
      spec = await this.options.prepareBoot?.(booting.abort.signal);
      const request: VmRequest = {
        name: 'pool',
        log: () => undefined,
        onSpawned: (pid) => {
          booting.pid = pid;
          setProcessNiceness(pid, BACKGROUND_NICENESS);
        },
        ...spec?.request,
      };
      const vm = await this.inner.acquire(request, booting.abort.signal);
      // vCPU threads started after the first renice get it too.
      setProcessNiceness(vm.handle.vmmPid, BACKGROUND_NICENESS);
      const key = bootKeyString(spec ? bootKeyOf(request) : DEFAULT_BOOT_KEY);
      const handle = { ...vm.handle, pool: { key, state: 'idle' as const } };
      // A VM whose handle cannot be written would be invisible to the reaper: not pooled.
      await writeHandle(handle).catch(async (error: unknown) => {
        await this.inner.release(vm);
        throw error;
      });
      // Checked after the last await: a dispose() or a shrinking resize may have come meanwhile.
      if (this.disposed || booting.surplus) {
        await this.inner.release(vm);
        return this.disposed ? 'failed' : 'surplus';
      }
      const entry: IdleVm = { vm: { ...vm, handle }, key, readySince: Date.now(), ...(spec ? { release: spec.release } : {}) };
      this.scheduleRecycle(entry);
      this.idle.push(entry);
      joined = true;
      this.options.log?.('pooled VM ready', { vm: handle.vmId, key, boot_seconds: (Date.now() - started) / 1000 });
      return 'joined';
    } catch (error) {
      if (booting.surplus && !this.disposed) return 'surplus';
      if (!this.disposed)
        this.options.log?.('booting a pooled VM failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      return 'failed';
    } finally {
      this.booting = undefined;
      if (!joined) spec?.release();
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
      void this.destroy(entry);
    }
    return undefined;
  }

  // An idle VM is replaced idle_time after it became ready (0 = never); a resize reschedules it.
  private scheduleRecycle(entry: IdleVm): void {
    clearTimeout(entry.recycle);
    entry.recycle = undefined;
    if (this.size.idleTimeMs <= 0) return;
    const left = Math.max(0, entry.readySince + this.size.idleTimeMs - Date.now());
    entry.recycle = setTimeout(() => void this.recycle(entry), left);
    entry.recycle.unref();
  }

  private async recycle(entry: IdleVm): Promise<void> {
    const index = this.idle.indexOf(entry);
    if (index < 0) return;
    this.idle.splice(index, 1);
    this.options.log?.('replacing a pooled VM that waited idle_time', { vm: entry.vm.handle.vmId });
    await this.destroy(entry);
    this.nudge();
  }

  // Destroys an idle VM and lets go of its image; callers need not wait (release never throws), dispose() does.
  private destroy(entry: IdleVm): Promise<void> {
    const release = this.inner
      .release(entry.vm)
      .finally(() => {
        entry.release?.();
        this.destroying.delete(release);
      });
    this.destroying.add(release);
    return release;
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
