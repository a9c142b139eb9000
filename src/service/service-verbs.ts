// gitlab-runner's service verbs (install, uninstall, start, stop, restart, status) over systemd.
// Without a running systemd each verb says so, and what to do instead, before touching anything.
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { UNIT_DIR, type ServiceHost } from './systemd.js';
import { renderServiceUnit, type UnitOptions } from './unit.js';

export type ServiceVerb = 'install' | 'uninstall' | 'start' | 'stop' | 'restart' | 'status';

export interface ServiceRequest {
  verb: ServiceVerb;
  /** The systemd unit name without ".service" (gitlab-runner's --service). */
  service: string;
  /** install only. */
  unit?: UnitOptions;
  /** Shown in the no-systemd message: how to run the daemon by hand. */
  configPath: string;
}

/** Runs one verb; returns what to print on stdout. */
export async function runServiceVerb(host: ServiceHost, request: ServiceRequest): Promise<string> {
  const { verb, service } = request;
  if (!(await host.systemdRunning()))
    throw new UserError(
      'SERVICE_NO_SYSTEMD',
      `"tart ${verb}" manages a systemd service, but systemd is not running on this host (no /run/systemd/system). ` +
        `Run the daemon under your own supervisor instead: tart run --config ${request.configPath}`,
    );
  const unitPath = join(UNIT_DIR, `${service}.service`);
  switch (verb) {
    case 'install': {
      if (!request.unit) throw new Error('install needs unit options');
      await host.writeUnit(unitPath, await renderServiceUnit(request.unit));
      await systemctl(host, ['daemon-reload']);
      await systemctl(host, ['enable', `${service}.service`]);
      return `installed ${unitPath} (enabled); start it with "tart start${serviceFlag(service)}" once a runner is registered\n`;
    }
    case 'uninstall': {
      await host.systemctl(['disable', '--now', `${service}.service`]);
      const removed = await host.removeUnit(unitPath);
      await systemctl(host, ['daemon-reload']);
      return removed ? `removed ${unitPath}\n` : `${unitPath} was not installed\n`;
    }
    case 'status': {
      const result = await host.systemctl(['is-active', `${service}.service`]);
      if (result.code === 0) return `${service}: Service is running\n`;
      throw new UserError(
        'SERVICE_NOT_RUNNING',
        `${service}: Service is not running (${result.stdout.trim() || 'unknown'})`,
      );
    }
    default:
      await systemctl(host, [verb, `${service}.service`]);
      return '';
  }
}

async function systemctl(host: ServiceHost, args: string[]): Promise<void> {
  const result = await host.systemctl(args);
  if (result.code !== 0)
    throw new UserError(
      'SERVICE_FAILED',
      `systemctl ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
}

function serviceFlag(service: string): string {
  return service === 'tart' ? '' : ` --service ${service}`;
}
