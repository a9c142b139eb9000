// A VM provider for the pool tests whose "VMs" are real processes: a runtime dir and an idle node
// process whose argv names it, so the pool's liveness check (isTheVmm) sees a live VMM. A boot may
// take `bootDelayMs`; aborting it undoes it (process killed, dir removed) and rejects, as a real
// provider does.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AcquiredVm, VmProvider, VmRequest } from '../../../../src/executor/vm/index.js';
import { createRuntimeDir, removeRuntimeDir } from '../../../../src/executor/vm/runtime-dir.js';

export class ProcessVmProvider implements VmProvider {
  readonly name = 'process';
  /** VM ids whose boot completed, in order. */
  readonly booted: string[] = [];
  readonly released: string[] = [];
  /** Boots aborted before they completed. */
  readonly aborted: string[] = [];
  /** The most boots that ran at the same time. */
  mostBootsAtOnce = 0;
  private boots = 0;
  private readonly children = new Map<string, ChildProcess>();
  private next = 0;

  constructor(
    private readonly root: string,
    private readonly options: { bootDelayMs?: number } = {},
  ) {}

  async acquire(request: VmRequest, signal?: AbortSignal): Promise<AcquiredVm> {
    const vmId = `${request.name}-${(this.next += 1)}`;
    this.boots += 1;
    this.mostBootsAtOnce = Math.max(this.mostBootsAtOnce, this.boots);
    try {
      const runtimeDir = await createRuntimeDir(this.root, vmId);
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 600_000)', runtimeDir], {
        stdio: 'ignore',
      });
      await new Promise((resolve) => child.once('spawn', resolve));
      this.children.set(vmId, child);
      request.onSpawned?.(child.pid ?? 0);
      const vm = this.vmOf(vmId, runtimeDir, child.pid ?? 0);
      try {
        if (this.options.bootDelayMs) await sleep(this.options.bootDelayMs, undefined, { signal });
        signal?.throwIfAborted();
      } catch (error) {
        this.aborted.push(vmId);
        await this.release(vm);
        throw error;
      }
      this.booted.push(vmId);
      return vm;
    } finally {
      this.boots -= 1;
    }
  }

  attach(): Promise<AcquiredVm> {
    return Promise.reject(new Error('not supported'));
  }

  async release(vm: AcquiredVm): Promise<void> {
    const child = this.children.get(vm.handle.vmId);
    this.children.delete(vm.handle.vmId);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    this.released.push(vm.handle.vmId);
    await removeRuntimeDir(vm.handle.runtimeDir);
  }

  /** Kills every VM still running (a test's cleanup). */
  async releaseAll(): Promise<void> {
    await Promise.all(this.running().map((vmId) => this.kill(vmId)));
  }

  /** VMs not released yet. */
  running(): string[] {
    return [...this.children.keys()];
  }

  kill(vmId: string): Promise<unknown> {
    const child = this.children.get(vmId);
    child?.kill('SIGKILL');
    return new Promise((resolve) => child?.once('exit', resolve));
  }

  private vmOf(vmId: string, runtimeDir: string, vmmPid: number): AcquiredVm {
    const handle = {
      vmId,
      runnerPid: process.pid,
      createdAt: new Date().toISOString(),
      vmm: 'process',
      vmmPid,
      runtimeDir,
      sockets: {},
      channel: { kind: 'ssh' as const, endpoint: { kind: 'tcp' as const, host: '127.0.0.1', port: 1 }, user: 'root', hostPublicKey: '' },
      credentials: { kind: 'file' as const, path: join(runtimeDir, 'client-key') },
      network: { mode: 'user' as const },
    };
    return { handle, channel: { exec: () => Promise.reject(new Error('no guest')), close: () => undefined } };
  }
}
