// The Firecracker driver: one fresh Firecracker process per VM, configured through its API with
// the boot plan, then started. Optional jailer. See firecracker.md §1.2 (sequence), §7 (jailer).
import { chmod, open, rm } from 'node:fs/promises';
import { TartError } from '../../errors.js';
import { GUEST_VSOCK_SSH_PORT } from '../guest-contract.js';
import { FirecrackerApiClient, type ApiRequest } from './api-client.js';
import { DEFAULT_API_READY_TIMEOUT_MS, waitForApi } from './api-readiness.js';
import { planBoot, type BootPlanInput } from './boot-plan.js';
import { ConsoleLog } from '../console-log.js';
import { spawnVmm, type SpawnVmm } from '../spawn.js';
import { FirecrackerInstance } from './firecracker-instance.js';
import { assertInstanceId } from './instance-id.js';
import {
  buildJailerArgv,
  realJailFs,
  removeJail,
  stageJailFiles,
  type JailerOptions,
  type JailFs,
} from './jailer.js';
import { assertElfKernel } from './kernel-format.js';
import { UndoStack } from '../undo-stack.js';
import { planVmLayout, type VmLayout } from './vm-layout.js';
import { startVmmProcess, type VmmProcess } from './vmm-process.js';
import { describeFirecracker } from './version.js';
import type { VmInstance, Vmm, VmSpec } from '../types.js';

export interface FirecrackerVmmOptions {
  /** Firecracker executable; `FIRECRACKER_BIN` in the environment wins (tests point it at the double). */
  binary?: string;
  /** Run under the jailer (production). */
  jailer?: Omit<JailerOptions, 'firecrackerBinary'>;
  /** Environment for the VMM process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** From exec until GET /machine-config answers. */
  apiReadyTimeoutMs?: number;
  /** Each pre-boot API call. */
  requestTimeoutMs?: number;
  /** Console bytes written to the per-VM log at most. */
  consoleMaxFileBytes?: number;
  /** vsock CID; Firecracker's vsock is a per-VM unix socket, so every VM may use 3. */
  vsockGuestCid?: number;
  /** Called with every request before it is sent, e.g. the spec check in tests. */
  requestCheck?: (request: ApiRequest) => void;
  spawn?: SpawnVmm;
  jailFs?: JailFs;
}

export const DEFAULT_VSOCK_GUEST_CID = 3;

/** `[runners.firecracker]` as the driver reads it (config/types.ts's FirecrackerConfig fits it). */
export interface FirecrackerSettings {
  binary: string;
  jailer: string;
  useJailer: boolean;
  uid?: number;
  gid?: number;
  chrootBase: string;
}

/** Driver options from `[runners.firecracker]`. */
export function firecrackerVmmOptionsFromConfig(config: FirecrackerSettings): FirecrackerVmmOptions {
  if (!config.useJailer) return { binary: config.binary };
  if (config.uid === undefined || config.gid === undefined) {
    throw new TartError('FIRECRACKER_JAILER_CONFIG', '[runners.firecracker] use_jailer needs uid and gid');
  }
  return {
    binary: config.binary,
    jailer: { jailerBinary: config.jailer, uid: config.uid, gid: config.gid, chrootBase: config.chrootBase },
  };
}

/** The Firecracker executable: FIRECRACKER_BIN, else the configured one, else `firecracker` on PATH. */
export function resolveFirecrackerBinary(binary: string | undefined, env: NodeJS.ProcessEnv): string {
  return env.FIRECRACKER_BIN || binary || 'firecracker';
}

export class FirecrackerVmm implements Vmm {
  readonly name = 'firecracker';

  constructor(private readonly options: FirecrackerVmmOptions = {}) {}

  /** "Firecracker v1.16.1" (+ " (jailed)"), from `firecracker --version`. */
  async describe(): Promise<string> {
    const env = this.options.env ?? process.env;
    const version = await describeFirecracker(
      this.options.spawn ?? spawnVmm,
      resolveFirecrackerBinary(this.options.binary, env),
      env,
    );
    return this.options.jailer === undefined ? version : `${version} (jailed)`;
  }

  /** Boots one VM; on any failure every file and process it made is gone before the error is thrown. */
  async start(spec: VmSpec, signal?: AbortSignal): Promise<VmInstance> {
    if (signal?.aborted) throw new TartError('ABORTED', 'VM start cancelled');
    const env = this.options.env ?? process.env;
    const binary = resolveFirecrackerBinary(this.options.binary, env);
    const jailer =
      this.options.jailer === undefined ? undefined : { ...this.options.jailer, firecrackerBinary: binary };
    const { layout, plan } = await this.prepare(spec, jailer);
    const undo = new UndoStack();
    let consoleLog: ConsoleLog | undefined;
    try {
      await createRuntimeFiles(spec, layout, jailer, undo, this.options.jailFs ?? realJailFs);
      const console = new ConsoleLog(spec.consoleLogPath, this.options.consoleMaxFileBytes);
      consoleLog = console;
      undo.push('close console log', () => console.close());
      const vmm = await this.spawnVmm(binary, spec.id, layout, jailer, env, console);
      undo.push('kill firecracker', async () => {
        if (!vmm.hasExited()) vmm.child.kill('SIGKILL');
        await vmm.exited;
      });
      await this.configureAndBoot(vmm, layout, plan, signal);
      return new FirecrackerInstance({
        process: vmm,
        apiSocketPath: layout.host.apiSocket,
        console,
        undo,
        sshEndpoint: { kind: 'unix-connect', path: layout.host.vsock, port: GUEST_VSOCK_SSH_PORT },
        signal,
      });
    } catch (error) {
      const tail = consoleLog?.lastChars(4096) ?? '';
      await undo.run();
      throw startFailure(error, spec.id, tail);
    }
  }

  /** Everything checkable before a side effect: id, network mode, socket paths, kernel format, plan. */
  private async prepare(
    spec: VmSpec,
    jailer: JailerOptions | undefined,
  ): Promise<{ layout: VmLayout; plan: ApiRequest[] }> {
    assertInstanceId(spec.id);
    if (spec.network.mode !== 'tap') {
      throw new TartError(
        'FIRECRACKER_NETWORK_UNSUPPORTED',
        'Firecracker has no user-mode networking: use network = "tap"',
      );
    }
    const layout = planVmLayout(spec, jailer);
    await assertElfKernel(spec.kernelPath);
    const input: BootPlanInput = {
      kernelPath: layout.inVmm.kernel,
      initrdPath: layout.inVmm.initrd,
      bootArgs: spec.kernelCmdline,
      drives: layout.inVmm.drives,
      serviceDrives: layout.inVmm.serviceDrives,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      network: { tapName: spec.network.tapName, mac: spec.network.mac },
      vsock: { guestCid: this.options.vsockGuestCid ?? DEFAULT_VSOCK_GUEST_CID, udsPath: layout.inVmm.vsock },
      logPath: layout.inVmm.log,
    };
    const plan = planBoot(input);
    plan.forEach((request) => this.options.requestCheck?.(request));
    return { layout, plan };
  }

  /** `firecracker --api-sock <path> --id <id>`, or the jailer around it; output goes to the console log. */
  private async spawnVmm(
    binary: string,
    id: string,
    layout: VmLayout,
    jailer: JailerOptions | undefined,
    env: NodeJS.ProcessEnv,
    console: ConsoleLog,
  ): Promise<VmmProcess> {
    const spawner = this.options.spawn ?? spawnVmm;
    const vmm =
      jailer === undefined
        ? await startVmmProcess(spawner, binary, ['--api-sock', layout.inVmm.apiSocket, '--id', id], env)
        : await startVmmProcess(
            spawner,
            jailer.jailerBinary,
            buildJailerArgv(jailer, id, ['--api-sock', layout.inVmm.apiSocket]),
            env,
          );
    // Serial console and Firecracker's own messages (stdout before PUT /logger, stderr) share the log.
    if (vmm.child.stdout) console.follow(vmm.child.stdout);
    if (vmm.child.stderr) console.follow(vmm.child.stderr);
    return vmm;
  }

  /** Waits for the API, then sends the plan in order; the process exiting or the signal aborting ends it early. */
  private async configureAndBoot(
    vmm: VmmProcess,
    layout: VmLayout,
    plan: ApiRequest[],
    signal?: AbortSignal,
  ): Promise<void> {
    const client = new FirecrackerApiClient({
      socketPath: layout.host.apiSocket,
      requestTimeoutMs: this.options.requestTimeoutMs,
    });
    const stopWaiting = new AbortController();
    const interrupted = interruption(vmm, signal, stopWaiting.signal);
    try {
      await Promise.race([
        waitForApi(
          client,
          this.options.apiReadyTimeoutMs ?? DEFAULT_API_READY_TIMEOUT_MS,
          stopWaiting.signal,
        ),
        interrupted,
      ]);
      for (const request of plan) await Promise.race([client.call(request), interrupted]);
    } finally {
      stopWaiting.abort();
    }
  }
}

/** Rejects when the VMM exits or the caller aborts before the boot plan is through. */
function interruption(vmm: VmmProcess, signal: AbortSignal | undefined, done: AbortSignal): Promise<never> {
  const interrupted = new Promise<never>((_resolve, reject) => {
    const onAbort = (): void => reject(new TartError('ABORTED', 'VM start cancelled'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    done.addEventListener('abort', () => signal?.removeEventListener('abort', onAbort), { once: true });
    void vmm.exited.then((exit) =>
      reject(
        new TartError(
          'FIRECRACKER_EXITED_DURING_BOOT',
          `Firecracker exited before the VM started (code ${exit.code}, signal ${exit.signal})`,
          {
            details: { exitCode: exit.code, signal: exit.signal },
          },
        ),
      ),
    );
  });
  interrupted.catch(() => undefined);
  return interrupted;
}

/**
 * Removes stale sockets (Firecracker refuses to bind over them), creates Firecracker's log file
 * (it opens but never creates it) and, when jailed, stages the chroot. Each step registers its undo.
 */
async function createRuntimeFiles(
  spec: VmSpec,
  layout: VmLayout,
  jailer: JailerOptions | undefined,
  undo: UndoStack,
  jailFs: JailFs,
): Promise<void> {
  if (jailer !== undefined) {
    undo.push('remove jail', () => removeJail(jailer, spec.id));
    await stageJailFiles(jailer, spec.id, layout.jailFiles, jailFs);
  }
  const runtimeFiles = [layout.host.apiSocket, layout.host.vsock, layout.host.log];
  undo.push('remove sockets and log', async () => {
    await Promise.all(runtimeFiles.map((path) => rm(path, { force: true })));
  });
  await Promise.all([layout.host.apiSocket, layout.host.vsock].map((path) => rm(path, { force: true })));
  await (await open(layout.host.log, 'w', 0o600)).close();
  await chmod(layout.host.log, 0o600);
  if (jailer !== undefined) await jailFs.chown(layout.host.log, jailer.uid, jailer.gid);
}

/** Keeps the error's code, adds the VM id and the console tail so a failed boot explains itself. */
function startFailure(error: unknown, vmId: string, consoleTail: string): TartError {
  if (error instanceof TartError) {
    return new TartError(error.code, error.message, {
      cause: error,
      details: { ...error.details, vmId, consoleTail },
    });
  }
  return new TartError('FIRECRACKER_START_FAILED', `VM ${vmId} did not start: ${(error as Error).message}`, {
    cause: error,
    details: { vmId, consoleTail },
  });
}
