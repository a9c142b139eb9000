// One daemon per runner of a config: two `tart run`s on one config.toml would share builds
// dirs and clobber each other's checkouts. Each runner entry a daemon serves is taken with a
// pid lock file beside the config (src/process/pid-lock.ts); a lock left by a killed daemon is
// taken over once its pid is gone.
import { basename, dirname, join } from 'node:path';
import type { TartConfig } from '../config/types.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { releasePidLock, takePidLock } from '../process/pid-lock.js';

/** Locks every runner name; throws UserError DAEMON_ALREADY_RUNNING naming the other pid. Returns release(). */
export async function lockRunners(
  configPath: string,
  runnerNames: readonly string[],
): Promise<() => Promise<void>> {
  const taken: string[] = [];
  const release = async () => {
    await Promise.all(taken.map(releasePidLock));
  };
  for (const name of runnerNames) {
    const path = lockPath(configPath, name);
    const owner = await takePidLock(path);
    if (owner !== undefined) {
      await release();
      throw new UserError(
        'DAEMON_ALREADY_RUNNING',
        `runner "${name}" of ${configPath} is already served by another tart daemon (pid ${owner}); ` +
          'stop it first, or give each daemon its own runner entries',
      );
    }
    taken.push(path);
  }
  return release;
}

/**
 * A reloaded config cut down to the runners this daemon may serve: `held` (names already locked)
 * grows by each new runner it can lock; a runner another daemon serves is left out, with one
 * error line, and tried again at the next reload. Locks are kept until the daemon stops.
 */
export async function lockAddedRunners(
  configPath: string,
  config: TartConfig,
  held: Map<string, () => Promise<void>>,
  logger: Logger,
): Promise<TartConfig> {
  const refused = new Set<string>();
  for (const name of new Set(config.runners.map((runner) => runner.name))) {
    if (held.has(name)) continue;
    const path = lockPath(configPath, name);
    const owner = await takePidLock(path);
    if (owner === undefined) {
      held.set(name, () => releasePidLock(path));
      continue;
    }
    refused.add(name);
    logger.error(
      `runner "${name}" of ${configPath} is already served by another tart daemon (pid ${owner}); not serving it here`,
      { code: 'DAEMON_ALREADY_RUNNING', runner: name },
    );
  }
  if (refused.size === 0) return config;
  return { ...config, runners: config.runners.filter((runner) => !refused.has(runner.name)) };
}

function lockPath(configPath: string, runnerName: string): string {
  const slug = runnerName.replace(/[^A-Za-z0-9._-]+/g, '_');
  return join(dirname(configPath), `.${basename(configPath)}.${slug}.lock`);
}
