// QEMU's `microvm` machine behind the Vmm interface: virtio-mmio disks, user-mode or TAP
// networking, the serial console captured with a bound, a QMP socket for a clean quit.
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TartError } from '../../errors.js';
import { runCollect } from '../../process/run.js';
import type { ChildProcess } from '../../process/spawn.js';
import { ConsoleLog } from '../console-log.js';
import { spawnVmm, type SpawnVmm } from '../spawn.js';
import type { VmExit, VmInstance, VmSpec, Vmm } from '../types.js';
import { probeAccelerator } from './accel-probe.js';
import { buildQemuArgs, type QemuAccelerator } from './qemu-args.js';
import type { VmCgroup, VmCgroups } from '../cgroup/vm-cgroups.js';
import { assertJailed, prepareQemuJail } from './qemu-jail.js';
import { handOverToOwner, type QemuOwner } from './qemu-owner.js';
import { qmpExecute, qmpExecuteWhenReady } from './qmp.js';

/** How long a spawned QEMU may take to serve QMP (its init: devices, disks, kernel load). */
const QMP_READY_TIMEOUT_MS = 15_000;

export interface QemuVmmOptions {
  binary?: string;
  /** "auto" probes KVM once (see accel-probe.ts). */
  accel?: 'auto' | 'kvm' | 'tcg';
  spawn?: SpawnVmm;
  /** For the accel probe: a kernel and initrd to boot. */
  probeKernel?: { kernelPath: string; initrdPath: string };
  /**
   * The unprivileged uid/gid QEMU runs as (absent = the daemon's own); asked at each start. Such a
   * QEMU is started as root, chroots into an empty dir of its VM once it has opened its files, and
   * drops to this uid/gid (qemu-jail.ts).
   */
  runAs?: () => Promise<QemuOwner>;
  /** Per-VM cgroup v2 limits (absent = none). */
  cgroups?: VmCgroups;
  /** The host resolver file copied into a jail (default /etc/resolv.conf). */
  resolvConf?: string;
}

export class QemuVmm implements Vmm {
  readonly name = 'qemu';
  private readonly binary: string;
  private version: Promise<string> | undefined;

  constructor(private readonly options: QemuVmmOptions = {}) {
    this.binary = options.binary ?? (process.env.QEMU_BIN || 'qemu-system-x86_64');
  }

  /** The accelerator jobs will use (probing once for "auto"). */
  async accelerator(kernel?: { kernelPath: string; initrdPath: string }): Promise<QemuAccelerator> {
    const accel = this.options.accel ?? 'auto';
    if (accel !== 'auto') return accel;
    const probe = kernel ?? this.options.probeKernel;
    if (!probe) return 'tcg';
    // KVM must open for the user the VMs run as, not only for the daemon.
    const owner = await this.options.runAs?.();
    return probeAccelerator({ qemuBinary: this.binary, ...probe, spawn: this.spawnAs(owner) });
  }

  async describe(): Promise<string> {
    // Asked once per process: every job's trace shows it, and spawning QEMU costs ~0.1 s.
    this.version ??= runCollect({ command: this.binary, args: ['--version'] }).then(
      ({ exitCode, stdout }) =>
        (exitCode === 0 ? /version ([\d.]+)/.exec(stdout.toString('utf8'))?.[1] : undefined) ?? 'unknown',
      () => 'unknown',
    );
    const version = await this.version;
    const accel = await this.accelerator();
    return `QEMU ${version} microvm (${accel === 'kvm' ? 'KVM' : 'TCG software emulation'})`;
  }

  async start(spec: VmSpec, signal?: AbortSignal): Promise<VmInstance> {
    signal?.throwIfAborted();
    const accel = await this.accelerator({ kernelPath: spec.kernelPath, initrdPath: spec.initrdPath });
    const owner = await this.options.runAs?.();
    const handover = owner ? await handOverToOwner(spec, owner) : undefined;
    const jail = owner ? { dir: await prepareQemuJail(spec.runtimeDir, this.options.resolvConf), ...owner } : undefined;
    const controlDir = handover?.controlDir ?? spec.runtimeDir;
    const qmpSocket = join(controlDir, 'qmp.sock');
    const pidFile = join(controlDir, 'qemu.pid');
    const args = buildQemuArgs({ spec, accel, qmpSocket, pidFile, passedDisks: handover?.passedDisks, jail });
    let child: ChildProcess;
    try {
      // A jailed QEMU starts as root (chroot needs it) and drops to the owner itself (-runas).
      child = this.spawnAs(jail ? undefined : owner)(this.binary, args, {
        cwd: controlDir,
        ...(handover ? { stdio: ['ignore', 'pipe', 'pipe', ...handover.descriptors] } : {}),
      });
    } catch (error) {
      await handover?.close();
      throw error;
    }
    // The child holds its own copies from the fork on. Not awaited here: the 'spawn' event must
    // find its listener below.
    const passedClosed = handover?.close();
    const console = new ConsoleLog(spec.consoleLogPath);
    if (child.stdout) console.follow(child.stdout);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
    let spawnError: NodeJS.ErrnoException | undefined;
    const exited: Promise<VmExit> = new Promise((resolve) => {
      child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
      child.once('error', (error: NodeJS.ErrnoException) => {
        spawnError = error;
        resolve({ code: null, signal: null });
      });
    });
    const spawned = await Promise.race([once(child, 'spawn').then(() => true), exited.then(() => false)]);
    await passedClosed;
    if (!spawned || child.pid === undefined) {
      throw new TartError('VMM_SPAWN_FAILED', spawnFailure(this.binary, spawnError, stderr));
    }
    const pid = child.pid;
    let stopping: Promise<void> | undefined;
    let cgroupRemoved: Promise<void> = Promise.resolve();
    const stop = (options: { graceMs?: number } = {}) => {
      stopping ??= stopQemu({ child, exited, qmpSocket, graceMs: options.graceMs ?? 3000 }).finally(async () => {
        await cgroupRemoved;
        await console.close();
        await rm(qmpSocket, { force: true });
        await rm(pidFile, { force: true });
      });
      return stopping;
    };
    const onAbort = () => void stop({ graceMs: 0 });
    signal?.addEventListener('abort', onAbort, { once: true });
    void exited.then(() => signal?.removeEventListener('abort', onAbort));
    // A QEMU that dies at once (bad argument, port taken) reports through stderr.
    const early = await Promise.race([exited, delay(150).then(() => undefined)]);
    if (early) {
      await stop();
      throw new TartError('VMM_EXITED', `QEMU exited at start (${early.code ?? early.signal}): ${stderr.trim()}`, {
        details: { stderr: stderr.trim() },
      });
    }
    // Started paused (-S): the guest runs only once QEMU is jailed and limited.
    try {
      await qmpExecuteWhenReady(qmpSocket, 'query-status', {
        timeoutMs: QMP_READY_TIMEOUT_MS,
        gone: () => child.exitCode !== null || child.signalCode !== null,
      });
      // QMP is served from QEMU's main loop, which starts after its chroot and uid drop.
      if (jail) await assertJailed(pid, jail.dir);
      const cgroup: VmCgroup | undefined = await this.options.cgroups?.place(spec.id, pid, {
        memoryMb: spec.memoryMb,
        vcpus: spec.vcpus,
        accel,
      });
      if (cgroup) cgroupRemoved = exited.then(() => cgroup.remove());
      const resumed = await qmpExecute(qmpSocket, 'cont', QMP_READY_TIMEOUT_MS);
      if (resumed.error) throw new TartError('VMM_EXITED', `QEMU refused to start the guest: ${resumed.error.desc}`);
    } catch (error) {
      await stop({ graceMs: 0 });
      if (error instanceof TartError && error.code !== 'QMP_CONNECTION' && error.code !== 'QMP_TIMEOUT') throw error;
      throw new TartError('VMM_EXITED', `QEMU did not come up (${(error as Error).message}): ${stderr.trim()}`, {
        cause: error,
        details: { stderr: stderr.trim() },
      });
    }
    return {
      pid,
      sockets: { qmp: qmpSocket },
      sshEndpoint:
        spec.network.mode === 'user'
          ? { kind: 'tcp', host: '127.0.0.1', port: spec.network.sshForwardPort }
          : { kind: 'tcp', host: spec.network.guestIp ?? '', port: 22 },
      exited,
      stop,
      consoleTail: (maxBytes) => console.lastChars(maxBytes),
      waitForConsole: (text: string) => console.waitFor(text),
    };
  }

  // QEMU is never given a uid switch of its own (-runas): its seccomp filter denies set*uid, so
  // it starts as the owner already (libuv drops the supplementary groups before exec).
  private spawnAs(owner: QemuOwner | undefined): SpawnVmm {
    const spawn = this.options.spawn ?? spawnVmm;
    if (!owner) return spawn;
    return (command, args, options) => spawn(command, args, { ...options, uid: owner.uid, gid: owner.gid });
  }
}

// Ask QEMU to quit over QMP; if it is still there after graceMs, SIGKILL it.
async function stopQemu(input: {
  child: ChildProcess;
  exited: Promise<VmExit>;
  qmpSocket: string;
  graceMs: number;
}): Promise<void> {
  const { child, exited } = input;
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (input.graceMs > 0) {
    await qmpExecute(input.qmpSocket, 'quit', Math.min(input.graceMs, 2000)).catch(() => undefined);
    const done = await Promise.race([exited.then(() => true), delay(input.graceMs).then(() => false)]);
    if (done) return;
  }
  child.kill('SIGKILL');
  await exited;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// Says what `tart doctor` says for an absent QEMU, rather than Node's bare spawn error.
function spawnFailure(binary: string, error: NodeJS.ErrnoException | undefined, stderr: string): string {
  if (error?.code === 'ENOENT' || error?.code === 'EACCES')
    return `${binary} is absent (or does not run) (fix: apt-get install qemu-system-x86, or set QEMU_BIN; "tart doctor" checks this host)`;
  return `could not start ${binary}: ${stderr.trim() || error?.message || 'no output'}`;
}
