// `tart install|uninstall|start|stop|restart|status`: the daemon as a systemd service, as
// gitlab-runner's verbs of the same names. The service modules load only when a verb runs.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { contextOf, globalOptions } from '../context.js';
import { requireRoot } from '../require-root.js';
import { projectRoot } from '../version.js';

const VERBS = [
  ['install', 'install the daemon as a systemd service (enabled, not started)'],
  ['uninstall', 'stop, disable and remove the systemd service'],
  ['start', 'start the service'],
  ['stop', 'stop the service (SIGQUIT: running jobs finish first)'],
  ['restart', 'restart the service'],
  ['status', 'say whether the service is running'],
] as const;

interface ServiceFlags {
  service: string;
  user?: string;
  workingDirectory?: string;
}

export function registerServiceCommands(program: Command): void {
  for (const [verb, description] of VERBS) {
    const command = program
      .command(verb)
      .description(description)
      .option('-n, --service <name>', 'systemd unit name', 'tart');
    if (verb === 'install')
      command
        .option('-u, --user <user>', 'run the daemon as this user (default: root)')
        .option('-d, --working-directory <dir>', 'the service working directory (default: /var/lib/tart)');
    command.action(async (flags: ServiceFlags, self: Command) => {
      const context = contextOf(self);
      if (verb !== 'status') requireRoot(context, verb, 'it changes systemd units');
      const { configPath } = globalOptions(self);
      const [{ runServiceVerb }, { realServiceHost }] = await Promise.all([
        import('../../service/service-verbs.js'),
        import('../../service/systemd.js'),
      ]);
      const output = await runServiceVerb(realServiceHost(), {
        verb,
        service: flags.service,
        configPath,
        ...(verb === 'install'
          ? {
              unit: {
                tartPath: resolve(process.argv[1] ?? 'tart'),
                configPath: resolve(configPath),
                packageRoot: projectRoot(),
                ...(flags.user ? { user: flags.user } : {}),
                ...(flags.workingDirectory ? { workingDirectory: resolve(flags.workingDirectory) } : {}),
              },
            }
          : {}),
      });
      context.stdout.write(output);
    });
  }
}
