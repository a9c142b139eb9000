// The systemd unit `tart install` writes and the Debian package ships: packaging/tart.service
// (the unit npm users copy by hand) with this installation's paths, user and working directory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UnitOptions {
  /** Absolute path of the `tart` command the service runs. */
  tartPath: string;
  configPath: string;
  /** The service's working directory (default /var/lib/tart, its StateDirectory). */
  workingDirectory?: string;
  /** Run the daemon as this user instead of root: it gets /dev/kvm through the kvm group and
   * CAP_NET_ADMIN for TAP devices; the host network is set up as root before it starts. */
  user?: string;
  /** Where docs/ of this installation is, for Documentation=. */
  packageRoot: string;
}

export const DEFAULT_WORKING_DIRECTORY = '/var/lib/tart';

/** The unit text: the template with ExecStart, WorkingDirectory, Documentation and the user filled in. */
export async function renderServiceUnit(options: UnitOptions): Promise<string> {
  const template = await readFile(join(options.packageRoot, 'packaging', 'tart.service'), 'utf8');
  return fillTemplate(template, options);
}

export function fillTemplate(template: string, options: UnitOptions): string {
  const tart = systemdQuote(options.tartPath);
  const config = systemdQuote(options.configPath);
  const body = template.slice(template.indexOf('[Unit]'));
  const header = [
    '# Tart: a GitLab CI runner that runs every job in a fresh microVM.',
    '# Written by "tart install"; "tart uninstall" removes it. Register runners with',
    `# "tart register --config ${options.configPath}" (token in $CI_SERVER_TOKEN, not on the command line).`,
    '',
  ];
  const userLines = options.user
    ? [
        `User=${options.user}`,
        'SupplementaryGroups=kvm',
        'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW',
        `ExecStartPre=+${tart} network setup --config ${config}`,
      ]
    : [];
  return (
    header.join('\n') +
    body
      .replace(
        /^Documentation=.*$/m,
        `Documentation=file://${join(options.packageRoot, 'docs', 'configuration.md')}`,
      )
      .replace(/^# Adjust the path if npm's global prefix.*\n/m, '')
      .replace(/^ExecStart=.*$/m, [...userLines, `ExecStart=${tart} run --config ${config}`].join('\n'))
      .replace(
        /^WorkingDirectory=.*$/m,
        `WorkingDirectory=${systemdQuote(options.workingDirectory ?? DEFAULT_WORKING_DIRECTORY)}`,
      )
  );
}

// systemd splits command lines on spaces; quote what needs it.
function systemdQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value)
    ? value
    : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
