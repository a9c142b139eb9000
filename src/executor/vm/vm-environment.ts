// A JobEnvironment inside a microVM: every exec goes through the VM's guest channel; close()
// hands the VM back to its provider, which destroys it and every file it had.
import { USER_MODE_NETWORK } from '../../vmm/guest-contract.js';
import type { ExecOptions, ExecResult, JobEnvironment, StartServicesOptions } from '../types.js';
import { HELPER_STAGE_COMMAND } from './image-root.js';
import type { VmServices } from './service-runtime.js';
import type { AcquiredVm, VmProvider } from './vm-provider.js';

export class VmEnvironment implements JobEnvironment {
  readonly buildsDir = '/builds';
  readonly disposable = true;
  private closing: Promise<void> | undefined;

  readonly userScriptCommand?: readonly string[];
  readonly helperScriptCommand?: readonly string[];
  readonly buildUser?: { readonly uid: number; readonly gid: number };
  readonly hostLoopbackAlias?: string;
  readonly startServices?: (options: StartServicesOptions) => Promise<void>;

  constructor(
    readonly executorName: string,
    private readonly vm: AcquiredVm,
    private readonly provider: VmProvider,
    private readonly parts: {
      /** The job's container image: the user stages' command, and how to let go of the image. */
      image?: { userScriptCommand: readonly string[]; user?: { uid: number; gid: number }; release: () => void };
      /** The job's services, mounted in the VM and started by startServices. */
      services?: VmServices;
    } = {},
  ) {
    this.userScriptCommand = parts.image?.userScriptCommand;
    if (parts.image) this.helperScriptCommand = HELPER_STAGE_COMMAND;
    const user = parts.image?.user;
    if (user && user.uid !== 0) this.buildUser = { uid: user.uid, gid: user.gid };
    if (parts.services) {
      const services = parts.services;
      this.startServices = (options: StartServicesOptions) => services.start(options);
    }
    // slirp maps its gateway to the host's 127.0.0.1.
    if (vm.handle.network.mode === 'user') this.hostLoopbackAlias = USER_MODE_NETWORK.gateway;
  }

  exec(options: ExecOptions): Promise<ExecResult> {
    return this.vm.channel.exec(options);
  }

  close(): Promise<void> {
    // Services are torn down with the VM; only the following of their output stops first.
    this.parts.services?.stop();
    this.closing ??= this.provider
      .release(this.vm)
      .catch(() => undefined)
      .finally(() => {
        this.parts.image?.release();
        this.parts.services?.release();
      });
    return this.closing;
  }
}
