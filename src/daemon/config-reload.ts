// Reloads config.toml for `tart run` as gitlab-runner does: on SIGHUP, and when the file changes
// on disk (checked every 3 s). A file that does not load is reported in one log line and the
// config in effect is kept; a file that does not exist yet is waited for.
import { stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';

/** gitlab-runner's reloadConfigInterval. */
export const CONFIG_CHECK_INTERVAL_MS = 3000;

export interface ConfigReloaderOptions {
  path: string;
  load: (path: string) => Promise<LoadedConfig>;
  /** Called with every config that loaded (and its warnings, already logged). */
  apply: (loaded: LoadedConfig) => void | Promise<void>;
  logger: Logger;
  checkIntervalMs?: number;
  /** The file's identity (mtime, size, inode), undefined when it does not exist. */
  fingerprint?: (path: string) => Promise<string | undefined>;
}

export class ConfigReloader {
  #timer: NodeJS.Timeout | undefined;
  #seen: string | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConfigReloaderOptions) {}

  /** Remembers the file as loaded now and starts watching it. */
  async start(): Promise<void> {
    this.#seen = await this.#fingerprint();
    this.#timer = setInterval(
      () => void this.#checkForChange(),
      this.options.checkIntervalMs ?? CONFIG_CHECK_INTERVAL_MS,
    );
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** SIGHUP: reload now, changed or not. Reloads never overlap. */
  reload(reason: 'signal' | 'file changed' = 'signal'): Promise<void> {
    this.#running = this.#running.then(() => this.#reloadOnce(reason));
    return this.#running;
  }

  async #checkForChange(): Promise<void> {
    const now = await this.#fingerprint();
    if (now === this.#seen || now === undefined) return;
    await this.reload('file changed');
  }

  async #reloadOnce(reason: string): Promise<void> {
    this.#seen = await this.#fingerprint();
    const { logger, path } = this.options;
    let loaded: LoadedConfig;
    try {
      loaded = await this.options.load(path);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // One line, however many problems the file has.
      logger.error(
        `config reload failed, keeping the current config: ${error.message.replaceAll('\n', '; ')}`,
        {
          code: error.code,
        },
      );
      return;
    }
    for (const warning of loaded.warnings) logger.warn(warning);
    await this.options.apply(loaded);
    logger.info('configuration reloaded', { reason, runners: loaded.config.runners.length });
  }

  #fingerprint(): Promise<string | undefined> {
    return (this.options.fingerprint ?? fileFingerprint)(this.options.path);
  }
}

async function fileFingerprint(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.mtimeNs}:${info.size}:${info.ino}`;
  } catch {
    return undefined;
  }
}
