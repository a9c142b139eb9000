// A JobEnvironment inside a microVM: every exec is one SSH channel; close() tears the VM
// down and removes every file it had.
import type { ExecOptions, ExecResult, JobEnvironment } from '../types.js';
import type { GuestSession } from '../../guest/session.js';
import type { VmInstance } from '../../vmm/types.js';
import { removeRuntimeDir } from './runtime-dir.js';

export class VmEnvironment implements JobEnvironment {
  readonly buildsDir = '/builds';
  readonly disposable = true;
  private closing: Promise<void> | undefined;

  constructor(
    readonly executorName: string,
    private readonly session: GuestSession,
    private readonly vm: VmInstance,
    private readonly runtimeDir: string,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {}

  exec(options: ExecOptions): Promise<ExecResult> {
    return this.session.exec(options);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.session.close();
      await this.vm.stop({ graceMs: 1000 }).catch(() => undefined);
      await this.release().catch(() => undefined);
      await removeRuntimeDir(this.runtimeDir).catch(() => undefined);
    })();
    return this.closing;
  }
}
