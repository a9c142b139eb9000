// `tart unregister`: removes runners from GitLab and from config.toml. Legacy runners are deleted
// (DELETE /runners); a glrt- runner belongs to GitLab, so only this host's manager is removed
// (DELETE /runners/managers with the system_id).
import type { Command } from 'commander';
import { hasCode, UserError } from '../../errors.js';
import { loadConfig, loadConfigOrEmpty } from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { saveConfig } from '../../config/save.js';
import { shortToken } from '../../config/short-token.js';
import { loadOrCreateSystemId } from '../../config/system-id.js';
import type { RunnerConfig } from '../../config/types.js';
import {
  isAuthenticationToken,
  unregisterRunner,
  unregisterRunnerManager,
} from '../../gitlab/registration.js';
import { contextOf, globalOptions } from '../context.js';
import { connectionOf, gitLabFailure, selectRunners } from '../runners.js';

interface UnregisterFlags {
  name?: string;
  allRunners?: boolean;
  url?: string;
  token?: string;
}

export function registerUnregisterCommand(program: Command): void {
  program
    .command('unregister')
    .description('remove runners from GitLab and from config.toml')
    .option('-n, --name <name>', 'the runner with this name')
    .option('--all-runners', 'every runner in config.toml')
    .option('-u, --url <url>', 'GitLab URL (with --token)')
    .option('-t, --token <token>', 'runner token (with --url)')
    .action(async (flags: UnregisterFlags, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const defaults = hostDefaults(context.host);
      if (flags.token !== undefined) context.logger.addSecret(flags.token);
      const byToken = flags.url !== undefined && flags.token !== undefined;
      if (!byToken && flags.name === undefined && !flags.allRunners) {
        throw new UserError('CLI_MISSING_FLAG', 'Give --name, --all-runners, or --url with --token');
      }
      // --url/--token works even for a runner that is not (or no longer) in config.toml.
      const config = byToken
        ? await loadConfigOrEmpty(configPath, defaults)
        : await loadConfig(configPath, defaults);
      for (const runner of config.runners) context.logger.addSecret(runner.token);
      const targets = chooseTargets(config.runners, flags, configPath);
      const systemId = await loadOrCreateSystemId(configPath, {
        onWarning: (message, error) => context.logger.warn(message, { error }),
      });

      const unregistered: Pick<RunnerConfig, 'url' | 'token'>[] = [];
      let failure: unknown;
      for (const target of targets) {
        try {
          await unregisterOne(target, systemId);
          unregistered.push(target);
          context.stdout.write(`Unregistering runner... succeeded  runner=${shortToken(target.token)}\n`);
        } catch (error) {
          failure ??= gitLabFailure(error, `Unregistering runner ${shortToken(target.token)}`);
          context.logger.error('Unregistering runner failed', { runner: shortToken(target.token), error });
        }
      }
      const remaining = config.runners.filter(
        (runner) => !unregistered.some((gone) => gone.token === runner.token && gone.url === runner.url),
      );
      if (remaining.length !== config.runners.length) {
        await saveConfig(configPath, { ...config, runners: remaining }, defaults);
      }
      if (failure !== undefined) throw failure;
    });
}

function chooseTargets(
  runners: RunnerConfig[],
  flags: UnregisterFlags,
  configPath: string,
): Pick<RunnerConfig, 'url' | 'token' | 'tlsCaFile'>[] {
  if (flags.allRunners) return runners;
  const selected = selectRunners(runners, {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.url !== undefined ? { url: flags.url } : {}),
    ...(flags.token !== undefined ? { token: flags.token } : {}),
  });
  if (selected.length > 0) return selected;
  if (flags.url !== undefined && flags.token !== undefined) return [{ url: flags.url, token: flags.token }];
  throw new UserError('RUNNER_NOT_FOUND', `No runner named "${flags.name ?? ''}" in ${configPath}`);
}

async function unregisterOne(
  runner: Pick<RunnerConfig, 'url' | 'token' | 'tlsCaFile'>,
  systemId: string,
): Promise<void> {
  const connection = connectionOf(runner);
  if (!isAuthenticationToken(runner.token)) {
    await unregisterRunner({ ...connection, token: runner.token });
    return;
  }
  try {
    await unregisterRunnerManager({ ...connection, token: runner.token, systemId });
  } catch (error) {
    // This host's manager is already gone: the goal is reached.
    if (!hasCode(error, 'RUNNER_MANAGER_NOT_FOUND')) throw error;
  }
}
