// `tart verify`: asks GitLab whether each runner's token is still valid (POST /runners/verify);
// with --delete, runners GitLab no longer knows (403) are removed from config.toml.
import type { Command } from 'commander';
import { hasCode, UserError } from '../../errors.js';
import { loadConfig } from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { saveConfig } from '../../config/save.js';
import { shortToken } from '../../config/short-token.js';
import { loadOrCreateSystemId } from '../../config/system-id.js';
import type { RunnerConfig } from '../../config/types.js';
import { verifyRunner } from '../../gitlab/registration.js';
import { contextOf, globalOptions } from '../context.js';
import { connectionOf, selectRunners } from '../runners.js';

interface VerifyFlags {
  delete?: boolean;
  name?: string;
}

type Verdict = 'valid' | 'removed' | 'failed';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("check the runners' tokens with GitLab")
    .option('--delete', 'remove runners that GitLab no longer knows from config.toml')
    .option('-n, --name <name>', 'only the runner with this name')
    .action(async (flags: VerifyFlags, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const defaults = hostDefaults(context.host);
      const config = await loadConfig(configPath, defaults);
      for (const runner of config.runners) context.logger.addSecret(runner.token);
      const selected = selectRunners(config.runners, {
        ...(flags.name !== undefined ? { name: flags.name } : {}),
      });
      if (flags.name !== undefined && selected.length === 0) {
        throw new UserError('RUNNER_NOT_FOUND', `No runner named "${flags.name}" in ${configPath}`);
      }
      const systemId = await loadOrCreateSystemId(configPath, {
        onWarning: (message, error) => context.logger.warn(message, { error }),
      });

      const verdicts = new Map<RunnerConfig, Verdict>();
      for (const runner of selected) {
        const verdict = await verifyOne(runner, systemId, (message, fields) =>
          context.logger.error(message, fields),
        );
        verdicts.set(runner, verdict);
        const line = verdict === 'valid' ? 'is valid' : verdict === 'removed' ? 'is removed' : 'failed';
        context.stdout.write(
          `Verifying runner... ${line}  runner=${shortToken(runner.token)} name=${runner.name}\n`,
        );
      }

      const removed = selected.filter((runner) => verdicts.get(runner) === 'removed');
      if (flags.delete && removed.length > 0) {
        await saveConfig(
          configPath,
          { ...config, runners: config.runners.filter((r) => !removed.includes(r)) },
          defaults,
        );
        context.stdout.write(`Removed ${removed.length} runner(s) from ${configPath}\n`);
      }
      const failed = selected.filter((runner) => verdicts.get(runner) === 'failed').length;
      const unresolved = failed + (flags.delete ? 0 : removed.length);
      if (unresolved > 0) {
        throw new UserError('VERIFY_FAILED', `${unresolved} of ${selected.length} runner(s) did not verify`);
      }
    });
}

async function verifyOne(
  runner: RunnerConfig,
  systemId: string,
  reportError: (message: string, fields: Record<string, unknown>) => void,
): Promise<Verdict> {
  try {
    await verifyRunner({ ...connectionOf(runner), token: runner.token, systemId });
    return 'valid';
  } catch (error) {
    if (hasCode(error, 'RUNNER_FORBIDDEN')) return 'removed';
    reportError('Verifying runner failed', { runner: shortToken(runner.token), error });
    return 'failed';
  }
}
