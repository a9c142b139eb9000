// One daemon per runner of a config: two `tart run`s on one config.toml would share builds
// dirs and clobber each other's checkouts. Each runner entry a daemon serves is taken with a
// lock file beside the config (created with O_EXCL, holding the owner's pid); a lock left by a
// killed daemon is taken over once its pid is gone.
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TartConfig } from '../config/types.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** Locks every runner name; throws UserError DAEMON_ALREADY_RUNNING naming the other pid. Returns release(). */
export async function lockRunners(
  configPath: string,
  runnerNames: readonly string[],
): Promise<() => Promise<void>> {
  const taken: string[] = [];
  const release = async () => {
    await Promise.all(taken.map((path) => rm(path, { force: true })));
  };
  for (const name of runnerNames) {
    const path = lockPath(configPath, name);
    const owner = await tryLock(path);
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
    const owner = await tryLock(path);
    if (owner === undefined) {
      held.set(name, () => rm(path, { force: true }));
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

// undefined when taken; else the pid of the live owner.
async function tryLock(path: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await liveOwner(path);
      if (owner !== undefined) return owner;
      await rm(path, { force: true });
    }
  }
  return (await liveOwner(path)) ?? 0;
}

// The pid in the lock when that process still runs. A lock just created but not yet written
// counts as held (pid 0).
async function liveOwner(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  if (text.trim() === '') return 0;
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? undefined : pid;
  }
}
