// The one seam to systemd: is it running, systemctl, and the unit file on disk.
import { access, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../config/save.js';
import { runCollect } from '../process/run.js';

export interface SystemctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ServiceHost {
  /** sd_booted(3): systemd is PID 1 when /run/systemd/system exists. */
  systemdRunning(): Promise<boolean>;
  systemctl(args: string[]): Promise<SystemctlResult>;
  writeUnit(path: string, text: string): Promise<void>;
  removeUnit(path: string): Promise<boolean>;
}

export const UNIT_DIR = '/etc/systemd/system';

export function realServiceHost(): ServiceHost {
  return {
    systemdRunning: () =>
      access('/run/systemd/system').then(
        () => true,
        () => false,
      ),
    systemctl: async (args) => {
      const result = await runCollect({ command: 'systemctl', args }).catch((error: Error) => ({
        exitCode: 1,
        stdout: Buffer.alloc(0),
        stderr: Buffer.from(`cannot run systemctl: ${error.message}`),
      }));
      return {
        code: result.exitCode,
        stdout: result.stdout.toString('utf8'),
        stderr: result.stderr.toString('utf8'),
      };
    },
    writeUnit: (path, text) => writeFileAtomic(path, text, 0o644),
    removeUnit: (path) =>
      access(path).then(
        () => rm(path).then(() => true),
        () => false,
      ),
  };
}
