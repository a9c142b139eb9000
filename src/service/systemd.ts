// The one seam to systemd: is it running, systemctl, and the unit file on disk.
import { execFile } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../config/save.js';

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
    systemctl: (args) =>
      new Promise((resolve) => {
        execFile('systemctl', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({
            code,
            stdout,
            stderr: stderr || (error && typeof error.code !== 'number' ? error.message : ''),
          });
        });
      }),
    writeUnit: (path, text) => writeFileAtomic(path, text, 0o644),
    removeUnit: (path) =>
      access(path).then(
        () => rm(path).then(() => true),
        () => false,
      ),
  };
}
