// Automatic runner token rotation for `tart run` (protocol reference §1.5, §1.6): each runner
// whose token expires is reset at token_obtained_at + 0.75 × its lifetime, earliest first, one at
// a time, re-planned after every reload. The new token and expiry go into config.toml
// atomically (0600) before the daemon uses them; running jobs are not touched (they use job tokens).
import type { RunnerConfig, TartConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';

/** gitlab-runner's TokenResetIntervalFactor. */
export const TOKEN_RESET_FACTOR = 0.75;
/** Wait before retrying a reset that failed (network, 5xx). */
const RETRY_MS = 60_000;
// setTimeout's limit; a later reset is re-planned when this fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RotatedToken {
  token: string;
  tokenExpiresAt?: string;
}

export interface TokenRotatorOptions {
  /** POST /runners/reset_authentication_token for this runner. */
  reset: (runner: RunnerConfig) => Promise<RotatedToken>;
  /** Writes the new token into config.toml (read fresh, changed, saved atomically); returns the new config. */
  save: (runner: RunnerConfig, rotated: RotatedToken, obtainedAt: Date) => Promise<TartConfig>;
  /** Hands the saved config to the daemon; `from` → `to` is the same runner. */
  apply: (config: TartConfig, renamed: { from: string; to: string }) => void;
  logger: Logger;
  now?: () => number;
}

export class TokenRotator {
  #timer: NodeJS.Timeout | undefined;
  #config: TartConfig | undefined;
  #failedUntil = new Map<string, number>();
  #busy = false;
  #stopped = false;

  constructor(private readonly options: TokenRotatorOptions) {}

  /** (Re)plans from `config`: the first config, and every reloaded one. */
  plan(config: TartConfig): void {
    this.#config = config;
    clearTimeout(this.#timer);
    if (this.#stopped || this.#busy) return;
    const next = this.#nextDue();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next.due - this.#now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => void this.#rotate(next.runner, next.due), delay);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #nextDue(): { runner: RunnerConfig; due: number } | undefined {
    let next: { runner: RunnerConfig; due: number } | undefined;
    for (const runner of this.#config?.runners ?? []) {
      const due = Math.max(
        resetDue(runner, this.#now()) ?? Infinity,
        this.#failedUntil.get(runner.token) ?? 0,
      );
      if (due !== Infinity && (next === undefined || due < next.due)) next = { runner, due };
    }
    return next;
  }

  async #rotate(runner: RunnerConfig, due: number): Promise<void> {
    if (due > this.#now() + 1000) return this.plan(this.#config as TartConfig); // a long wait in steps
    const log = { runner: runner.name || 'runner' };
    if (runner.featureFlags?.FF_DISABLE_AUTOMATIC_TOKEN_ROTATION) {
      this.options.logger.warn(
        'automatic token rotation is disabled (FF_DISABLE_AUTOMATIC_TOKEN_ROTATION); the token expires',
        log,
      );
      this.#failedUntil.set(runner.token, Infinity);
      return this.plan(this.#config as TartConfig);
    }
    this.#busy = true;
    try {
      const rotated = await this.options.reset(runner);
      this.options.logger.addSecret(rotated.token);
      const obtainedAt = new Date(Math.floor(this.#now() / 1000) * 1000);
      const saved = await this.options.save(runner, rotated, obtainedAt);
      this.options.apply(saved, { from: runner.token, to: rotated.token });
      this.options.logger.info('runner token rotated', {
        ...log,
        expires_at: rotated.tokenExpiresAt ?? 'never',
      });
      this.#config = saved;
    } catch (error) {
      this.#failedUntil.set(runner.token, this.#now() + RETRY_MS);
      this.options.logger.error('runner token rotation failed; retrying in a minute', {
        ...log,
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#busy = false;
    }
    this.plan(this.#config as TartConfig);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** When `runner`'s token is due for a reset (ms since epoch), or undefined when it never expires. */
export function resetDue(runner: RunnerConfig, now: number): number | undefined {
  if (runner.tokenExpiresAt === undefined) return undefined;
  const expires = runner.tokenExpiresAt.getTime();
  const obtained = runner.tokenObtainedAt?.getTime() ?? Math.min(now, expires);
  return obtained + TOKEN_RESET_FACTOR * (expires - obtained);
}
