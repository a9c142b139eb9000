// `tart list`: the configured runners, with a short token only; no GitLab calls.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { shortToken } from '../../config/short-token.js';
import { contextOf, globalOptions } from '../context.js';

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list the runners in config.toml')
    .action(async (_flags: unknown, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const config = await loadConfig(configPath, hostDefaults(context.host));
      context.stderr.write(`Listing configured runners  ConfigFile=${configPath}\n`);
      const width = Math.max(0, ...config.runners.map((runner) => runner.name.length));
      for (const runner of config.runners) {
        context.stdout.write(
          `${runner.name.padEnd(width)}  Executor=${runner.executor} Token=${shortToken(runner.token)} URL=${runner.url}\n`,
        );
      }
    });
}
