// One daemon per runner of a config: two `tart run`s on one config.toml would share builds
// dirs and clobber each other's checkouts. Each runner entry a daemon serves is taken with a
// lock file beside the config (created with O_EXCL, holding the owner's pid); a lock left by a
// killed daemon is taken over once its pid is gone.
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

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
