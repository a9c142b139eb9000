// `tart run` (the multi-runner daemon) and `tart run-single` (one runner, optionally bounded).
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import {
  loadConfigOrEmptyWithWarnings,
  loadConfigWithWarnings,
  type LoadedConfig,
} from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { loadOrCreateSystemId } from '../../config/system-id.js';
import type { TartConfig } from '../../config/types.js';
import { Daemon } from '../../daemon/run.js';
import { lockAddedRunners, lockRunners } from '../../daemon/instance-lock.js';
import { guardProcess } from '../../daemon/process-guard.js';
import { saveConfig } from '../../config/save.js';
import { ConfigReloader } from '../../daemon/config-reload.js';
import { tlsFilesOf } from '../../daemon/runner-entry.js';
import { TokenRotator } from '../../daemon/token-rotation.js';
import { resetRunnerToken } from '../../gitlab/registration.js';
import { handleStopSignals } from '../../daemon/signals.js';
import { applyLogSettings, contextOf, globalOptions, type CliContext } from '../context.js';
import { tartRevision, tartVersion } from '../version.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the daemon: poll GitLab for jobs of every configured runner')
    .option('--listen-address <host:port>', 'serve /metrics and /healthz here (overrides listen_address)')
    .action(async (flags: { listenAddress?: string }, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const defaults = hostDefaults(context.host);
      const withFlags = (loaded: LoadedConfig): LoadedConfig => {
        if (flags.listenAddress) loaded.config.listenAddress = flags.listenAddress;
        return loaded;
      };
      // As gitlab-runner: no file or no runner yet is fine; `tart register` adds one and a reload picks
      // it up. A file that disappears later is a failed reload (the current config stays).
      const { config, warnings } = withFlags(await loadConfigOrEmptyWithWarnings(configPath, defaults));
      await runUntilStopped(context, configPath, config, {
        warnings,
        reload: async (path) => withFlags(await loadConfigWithWarnings(path, defaults)),
      });
    });

  program
    .command('run-single')
    .description('run one runner from config.toml (by --name) until stopped, or for --max-builds jobs')
    .option('-n, --name <name>', 'the [[runners]] entry to run (default: the only one)')
    .option('--max-builds <n>', 'exit after this many jobs (0 = no bound)', parseCount, 0)
    .option(
      '--wait-timeout <seconds>',
      'exit when no job arrived for this long (0 = wait forever)',
      parseCount,
      0,
    )
    .action(async (flags: { name?: string; maxBuilds: number; waitTimeout: number }, command: Command) => {
      const context = contextOf(command);
      const { configPath } = globalOptions(command);
      const { config, warnings } = await loadConfigWithWarnings(configPath, hostDefaults(context.host));
      const runner = pickRunner(config, flags.name);
      await runUntilStopped(
        context,
        configPath,
        { ...config, concurrent: 1, runners: [runner] },
        {
          maxBuilds: flags.maxBuilds,
          waitTimeoutMs: flags.waitTimeout * 1000,
          warnings,
        },
      );
    });
}

interface RunBounds {
  maxBuilds?: number;
  waitTimeoutMs?: number;
  warnings?: string[];
  /** `tart run`: reload config.toml on SIGHUP and when it changes. */
  reload?: (path: string) => Promise<LoadedConfig>;
  /** The part of a reloaded config this daemon may serve (the runners it could lock). */
  servable?: (config: TartConfig) => Promise<TartConfig>;
}

// Runs the daemon until a signal (or run-single's bounds) stops it.
async function runUntilStopped(
  context: CliContext,
  configPath: string,
  config: TartConfig,
  bounds: RunBounds,
): Promise<void> {
  if (config.runners.length === 0 && !bounds.reload)
    throw new UserError('NO_RUNNERS', `${configPath}: no [[runners]] configured; run "tart register" first`);
  // --log-level/--log-format given on the command line win over config.toml.
  applyLogSettings(context, config);
  for (const warning of bounds.warnings ?? []) context.logger.warn(warning);
  const releaseLocks = await lockRunners(configPath, [
    ...new Set(config.runners.map((runner) => runner.name)),
  ]);
  // Runners a reload adds are locked too; the ones at start are held by releaseLocks.
  const held = new Map(config.runners.map((runner) => [runner.name, async () => undefined]));
  const servable = (next: TartConfig) => lockAddedRunners(configPath, next, held, context.logger);
  try {
    await serveUntilStopped(context, configPath, config, { ...bounds, servable });
  } finally {
    await releaseLocks();
    await Promise.all([...held.values()].map((release) => release()));
  }
}

async function serveUntilStopped(
  context: CliContext,
  configPath: string,
  config: TartConfig,
  bounds: RunBounds,
): Promise<void> {
  const systemId = await loadOrCreateSystemId(configPath, {
    onWarning: (message) => context.logger.warn(message),
  });
  const timers: { idle?: NodeJS.Timeout } = {};
  const daemon = new Daemon({
    config,
    systemId,
    tartVersion: tartVersion(),
    tartRevision: tartRevision(),
    logger: context.logger,
    defaultCacheDir: join(
      context.host.uid === 0 ? '/var/cache/tart' : join(context.host.home, '.cache', 'tart'),
    ),
    maxBuilds: bounds.maxBuilds,
    // --wait-timeout bounds the wait for the first job only.
    onJobReceived: () => clearTimeout(timers.idle),
  });
  timers.idle = bounds.waitTimeoutMs
    ? setTimeout(() => daemon.stopGracefully(), bounds.waitTimeoutMs)
    : undefined;
  const rotator = bounds.reload
    ? tokenRotatorFor(context, configPath, bounds.reload, daemon, bounds.servable)
    : undefined;
  const reloader = bounds.reload
    ? new ConfigReloader({
        path: configPath,
        load: bounds.reload,
        logger: context.logger,
        apply: async ({ config: loaded }) => {
          const reloaded = (await bounds.servable?.(loaded)) ?? loaded;
          applyLogSettings(context, reloaded);
          daemon.applyConfig(reloaded);
          rotator?.plan(reloaded);
        },
      })
    : undefined;
  const removeGuard = guardProcess({ logger: context.logger });
  const removeHandlers = handleStopSignals({
    daemon,
    shutdownTimeoutMs: config.shutdownTimeout * 1000,
    logger: context.logger,
    exit: (code) => process.exit(code),
    ...(reloader ? { reload: () => void reloader.reload() } : {}),
  });
  try {
    await daemon.start();
    await reloader?.start();
    rotator?.plan(config);
    if (config.runners.length === 0)
      context.logger.info(`no runners in ${configPath} yet: waiting for "tart register" to add one`);
    await daemon.whenStopped();
  } finally {
    reloader?.stop();
    rotator?.stop();
    clearTimeout(timers.idle);
    removeHandlers();
    removeGuard();
  }
  context.logger.info('tart stopped');
}

// Token rotation writes the new token into the file as it is now (read fresh), then hands it to the daemon.
function tokenRotatorFor(
  context: CliContext,
  configPath: string,
  load: (path: string) => Promise<LoadedConfig>,
  daemon: Daemon,
  servable: ((config: TartConfig) => Promise<TartConfig>) | undefined,
): TokenRotator {
  const defaults = hostDefaults(context.host);
  return new TokenRotator({
    logger: context.logger,
    reset: (runner) =>
      resetRunnerToken({
        url: runner.url,
        tls: tlsFilesOf(runner),
        token: runner.token,
        tartVersion: tartVersion(),
      }),
    save: async (runner, rotated, obtainedAt) => {
      const { config } = await load(configPath);
      const entry = config.runners.find(
        (candidate) => candidate.url === runner.url && candidate.token === runner.token,
      );
      if (entry === undefined)
        throw new UserError('RUNNER_GONE', 'the runner is no longer in the config file');
      entry.token = rotated.token;
      entry.tokenObtainedAt = obtainedAt;
      if (rotated.tokenExpiresAt) entry.tokenExpiresAt = new Date(rotated.tokenExpiresAt);
      else delete entry.tokenExpiresAt;
      await saveConfig(configPath, config, defaults);
      return config;
    },
    apply: (config, renamed) =>
      void (servable?.(config) ?? Promise.resolve(config))
        .then((served) => daemon.applyConfig(served, renamed))
        .catch((error: unknown) =>
          context.logger.error(`applying the rotated token failed: ${String(error)}`),
        ),
  });
}

function pickRunner(config: TartConfig, name: string | undefined) {
  if (name === undefined) {
    if (config.runners.length === 1 && config.runners[0]) return config.runners[0];
    throw new UserError('RUNNER_NAME_REQUIRED', 'several runners are configured: choose one with --name');
  }
  const runner = config.runners.find((entry) => entry.name === name);
  if (!runner) throw new UserError('RUNNER_NOT_FOUND', `no runner named "${name}" in the config`);
  return runner;
}

function parseCount(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new UserError('BAD_FLAG', `expected a whole number, got "${value}"`);
  return number;
}
