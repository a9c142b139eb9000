// A job's services inside its VM (#11): their roots are mounted with the VM (their aliases go into
// /etc/hosts and the job image root's copy of it first), their processes start once the job's
// variables are known, and each is waited for as gitlab-runner waits (docker executor reference
// §5.5): every exposed TCP port dialled each second, in parallel, up to wait_for_services_timeout;
// one that dies or never listens gets gitlab-runner's warning with its log tail, and the job goes on.
import { setTimeout as sleep } from 'node:timers/promises';
import { TartError } from '../../errors.js';
import type { GuestChannel } from '../../guest/channel.js';
import { healthCheckPorts, serviceArgv, serviceEnvironment } from '../../oci/service-process.js';
import { serviceDiskDevices } from '../../vmm/guest-contract.js';
import type { StartServicesOptions } from '../types.js';
import { lineWriter } from '../line-writer.js';
import { execCollecting } from './guest-exec.js';
import { IMAGE_ROOT, resolvedUserOf, type GuestTools, type ResolvedUser } from './image-root.js';
import type { PreparedService } from './job-services.js';
import {
  healthCheckTimeoutError,
  noExposedPortsError,
  serviceLogLine,
  serviceWarningBlock,
  waitingForServicesLine,
} from './service-messages.js';
import {
  READINESS_EXIT,
  readinessCommand,
  serviceHostsLines,
  serviceLogFollowCommand,
  serviceLogTailCommand,
  serviceRootSetupCommand,
  serviceStartCommand,
  splitStampedLine,
} from './service-root.js';

const DEFAULT_WAIT_SECONDS = 30;
/** gitlab-runner gives a service that failed its check up to 10 s more to write something. */
const LOG_GRACE_MS = 10_000;

export class VmServices {
  private readonly following = new AbortController();
  /** Each service's user, resolved when its root is mounted (undefined: root). */
  private readonly users: (ResolvedUser | undefined)[] = [];

  constructor(
    private readonly channel: GuestChannel,
    private readonly services: readonly PreparedService[],
    private readonly options: { buildsDir: string; hasJobImage: boolean; waitForServicesTimeout?: number; sharedVolumes?: readonly string[]; tools?: GuestTools },
  ) {}

  /**
   * The aliases into the VM's /etc/hosts (and the job image root's copy of it, already made),
   * then one root per service, each copying /etc/hosts with the aliases, with its image's user resolved.
   */
  async mount(signal: AbortSignal): Promise<void> {
    const hosts = serviceHostsLines(this.services.map((service) => service.aliases));
    const files = ['/etc/hosts', ...(this.options.hasJobImage ? [`${IMAGE_ROOT}/etc/hosts`] : [])];
    await this.run(['sh', '-c', 'tee -a "$@" >/dev/null', 'sh', ...files], 'cannot write the service aliases to /etc/hosts', signal, hosts);
    const devices = serviceDiskDevices(this.options.hasJobImage, this.services.length);
    for (const [index, service] of this.services.entries()) {
      const { user } = service.root;
      const output = await this.run(serviceRootSetupCommand(index, devices[index]!, this.options.buildsDir, { ...service.root, sharedVolumes: this.options.sharedVolumes ?? [] }, this.options.tools), `cannot mount service ${service.name} in the VM`, signal);
      const resolved = resolvedUserOf(user, output);
      if (resolved === 'unresolved') throw new TartError('SERVICE_SETUP_FAILED', `cannot resolve service ${service.name}'s user "${user}": ${output.trim()}`);
      this.users[index] = resolved;
    }
  }

  /** Starts every service, follows their output when asked, then waits for them. */
  async start(options: StartServicesOptions): Promise<void> {
    const started = [];
    for (const [index, service] of this.services.entries()) {
      const user = this.users[index];
      const { config } = service.image;
      const env = serviceEnvironment({ imageEnv: config.env, jobVariables: options.variables, serviceVariables: service.definition.variables, ...(user ? { home: user.home } : {}) });
      const argv = serviceArgv(config, service.definition);
      const start = serviceStartCommand(index, { env, argv, workingDir: config.workingDir, ...(user ? { user } : {}) });
      await this.run(start, `cannot start service ${service.name}`, options.signal);
      started.push({ service, index, env });
    }
    if (options.followLogs) for (const { service, index } of started) this.follow(service, index, options.write);
    const timeout = this.waitSeconds();
    if (timeout === undefined || started.length === 0) return;
    options.log(waitingForServicesLine(timeout));
    await Promise.all(started.map((entry) => this.waitFor(entry, timeout, options)));
  }

  /** Stops following service output (the services themselves end with the VM). */
  stop(): void {
    this.following.abort();
  }

  /** Lets go of the service images in the store. */
  release(): void {
    for (const service of this.services) service.image.release();
  }

  private waitSeconds(): number | undefined {
    const configured = this.options.waitForServicesTimeout ?? 0;
    if (configured < 0) return undefined;
    return configured === 0 ? DEFAULT_WAIT_SECONDS : configured;
  }

  // One service's readiness; a failure is written as gitlab-runner's warning block.
  private async waitFor(
    entry: { service: PreparedService; index: number; env: string[] },
    timeoutSeconds: number,
    options: StartServicesOptions,
  ): Promise<void> {
    const { service, index } = entry;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let failure: { error: string; healthCheckLogs?: string; exited?: boolean };
    try {
      const ports = healthCheckPorts(entry.env, service.image.config);
      if (ports.length === 0) {
        failure = { error: noExposedPortsError(service.containerName) };
      } else {
        const check = await execCollecting(this.channel, { command: readinessCommand(index, ports, timeoutSeconds), signal: options.signal });
        if (check.exitCode === READINESS_EXIT.listening) return;
        failure =
          check.exitCode === READINESS_EXIT.exited
            ? { error: `service "${service.containerName}" exited with code ${lastLine(check.output)} before it listened`, exited: true }
            : { error: healthCheckTimeoutError(service.containerName), healthCheckLogs: check.output };
      }
    } catch (error) {
      if (options.signal.aborted) throw error;
      failure = { error: error instanceof Error ? error.message : String(error) };
    }
    // A service still running may write something useful yet; a finished one will not.
    const grace = Math.min(Math.max(0, deadline - Date.now()), LOG_GRACE_MS);
    if (!failure.exited && grace > 0) await sleep(grace, undefined, { signal: options.signal }).catch(() => undefined);
    const logs = await execCollecting(this.channel, { command: serviceLogTailCommand(index), signal: options.signal });
    options.write(serviceWarningBlock({ containerName: service.containerName, ...failure, serviceLogs: logs.output }));
  }

  // CI_DEBUG_SERVICES: the service's output, line by line, until the environment closes.
  private follow(service: PreparedService, index: number, write: (text: string) => void): void {
    const signal = this.following.signal;
    const lines = lineWriter((line) => {
      const { timestamp, text } = splitStampedLine(line);
      if (!signal.aborted) write(serviceLogLine(service.aliases, timestamp, text));
    });
    void this.channel
      .exec({ command: serviceLogFollowCommand(index), stdout: lines, signal })
      .catch(() => undefined)
      .finally(() => lines.end());
  }

  private async run(command: string[], what: string, signal: AbortSignal, stdin?: string): Promise<string> {
    const { exitCode, output } = await execCollecting(this.channel, { command, signal, ...(stdin === undefined ? {} : { stdin }) });
    if (exitCode !== 0) throw new TartError('SERVICE_SETUP_FAILED', `${what} (exit ${exitCode}): ${output.trim()}`);
    return output;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
