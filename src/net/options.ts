// What every src/net entry point accepts besides its own arguments.
import { join } from 'node:path';
import { defaultNetContext, type NetCommandRunner, type NetContext } from './net-command.js';

export interface NetOptions {
  /** Run everything inside this network namespace (tests, `tart network --netns`). */
  netns?: string;
  /** Leases and saved host state; default /run/tart/net (or /run/tart/net/netns-<name>). */
  stateDir?: string;
  /** Replaces the spawn of ip/nft/tee (tests). */
  run?: NetCommandRunner;
}

export const DEFAULT_STATE_ROOT = '/run/tart/net';

export function stateDirOf(options: NetOptions): string {
  if (options.stateDir !== undefined) return options.stateDir;
  return options.netns === undefined
    ? DEFAULT_STATE_ROOT
    : join(DEFAULT_STATE_ROOT, `netns-${options.netns}`);
}

export function contextOf(options: NetOptions): NetContext {
  const context = defaultNetContext(options.netns);
  return options.run === undefined ? context : { ...context, run: options.run };
}
