// One running Firecracker microVM: its exit, its console, and how to stop it. The guest's job
// verdict never comes from here — exit code 0 only means "the guest reset" (firecracker.md §1.8).
import { setTimeout as sleep } from 'node:timers/promises';
import { FirecrackerApiClient } from './api-client.js';
import { SEND_CTRL_ALT_DEL } from './boot-plan.js';
import type { ConsoleLog } from '../console-log.js';
import type { UndoStack } from '../undo-stack.js';
import type { VmmProcess } from './vmm-process.js';
import type { SshEndpoint, VmExit, VmInstance } from '../types.js';

export const DEFAULT_STOP_GRACE_MS = 5_000;
/** SendCtrlAltDel is a courtesy: a hung API must not delay the SIGKILL. */
const CTRL_ALT_DEL_TIMEOUT_MS = 500;

export interface InstanceParts {
  process: VmmProcess;
  apiSocketPath: string;
  console: ConsoleLog;
  undo: UndoStack;
  sshEndpoint: SshEndpoint;
  /** Aborting it at any time SIGKILLs the VM (job cancelled). */
  signal?: AbortSignal;
}

export class FirecrackerInstance implements VmInstance {
  readonly pid: number;
  readonly sshEndpoint: SshEndpoint;
  readonly sockets: Readonly<Record<string, string>>;
  /** Resolves after the process has exited AND its sockets and runtime files are removed. */
  readonly exited: Promise<VmExit>;
  private readonly parts: InstanceParts;

  constructor(parts: InstanceParts) {
    this.parts = parts;
    this.pid = parts.process.pid;
    this.sshEndpoint = parts.sshEndpoint;
    this.sockets = {
      api: parts.apiSocketPath,
      ...(parts.sshEndpoint.kind === 'unix-connect' ? { vsock: parts.sshEndpoint.path } : {}),
    };
    const onAbort = (): void => this.kill();
    parts.signal?.addEventListener('abort', onAbort, { once: true });
    if (parts.signal?.aborted) this.kill();
    this.exited = parts.process.exited.then(async (exit) => {
      parts.signal?.removeEventListener('abort', onAbort);
      await parts.undo.run();
      return exit;
    });
  }

  /** Ctrl-Alt-Del (the guest reboots, which ends Firecracker with reboot=k), then SIGKILL after the grace. */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (!this.parts.process.hasExited()) {
      const client = new FirecrackerApiClient({
        socketPath: this.parts.apiSocketPath,
        requestTimeoutMs: CTRL_ALT_DEL_TIMEOUT_MS,
      });
      await client.call(SEND_CTRL_ALT_DEL).catch(() => undefined);
      const graceMs = options.graceMs ?? DEFAULT_STOP_GRACE_MS;
      const graceOver = new AbortController();
      const exitedInTime = await Promise.race([
        this.parts.process.exited.then(() => true),
        sleep(graceMs, false, { signal: graceOver.signal }).catch(() => false),
      ]);
      graceOver.abort();
      if (!exitedInTime) this.kill();
    }
    await this.exited;
  }

  /** The newest console output (serial console and Firecracker's own stdout/stderr). */
  consoleTail(maxBytes: number): string {
    return this.parts.console.lastChars(maxBytes);
  }

  /** Resolves when `text` appears on the console (e.g. GUEST_READY_MARKER). */
  waitForConsole(text: string): Promise<void> {
    return this.parts.console.waitFor(text);
  }

  private kill(): void {
    if (!this.parts.process.hasExited()) this.parts.process.child.kill('SIGKILL');
  }
}
