// The host guard's lifecycle (the rules are in host-guard-ruleset.ts): every user-mode VM enters
// the guard of its QEMU uid before its QEMU starts and leaves it once the QEMU is gone. Entering
// (re)loads the table with the GitLab endpoints of every VM inside; the last VM out removes it,
// unless another process still runs as that uid. A guard that cannot be loaded fails the VM.
import { lookup } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { TartError } from '../errors.js';
import { isLoopbackHost } from '../model/guest-urls.js';
import { nameservers } from './dns.js';
import {
  buildHostGuardRuleset,
  deleteHostGuardScript,
  HOST_GUARD_FAMILY,
  hostGuardTableName,
  type HostEndpoint,
} from './host-guard-ruleset.js';
import { runNet, runNetChecked, type NetContext } from './net-command.js';
import { contextOf, type NetOptions } from './options.js';

/** Leaves the guard: the VM's QEMU has exited. Idempotent. */
export type LeaveHostGuard = () => Promise<void>;

export interface HostGuardOptions extends NetOptions {
  /** Where slirp finds the resolvers it forwards DNS to; default /etc/resolv.conf. */
  resolvConf?: string;
}

interface GuardState {
  context: NetContext;
  resolvConf: string;
  /** The endpoints of each VM inside. */
  inside: Map<symbol, HostEndpoint[]>;
  /** Loads and removals, one at a time. */
  queue: Promise<unknown>;
}

const guards = new Map<string, GuardState>();

/** Loads the guard for `uid` with `endpoints` open, before a VM's QEMU starts as that uid. */
export async function enterHostGuard(
  uid: number,
  endpoints: HostEndpoint[],
  options: HostGuardOptions = {},
): Promise<LeaveHostGuard> {
  const key = `${options.netns ?? ''}/${uid}`;
  let state = guards.get(key);
  if (!state) {
    state = {
      context: contextOf(options),
      resolvConf: options.resolvConf ?? '/etc/resolv.conf',
      inside: new Map(),
      queue: Promise.resolve(),
    };
    guards.set(key, state);
  }
  const guard = state;
  const ticket = Symbol('vm');
  guard.inside.set(ticket, endpoints);
  try {
    await serialise(guard, () => load(guard, uid));
  } catch (error) {
    guard.inside.delete(ticket);
    throw error;
  }
  let left: Promise<void> | undefined;
  return () =>
    (left ??= serialise(guard, async () => {
      guard.inside.delete(ticket);
      if (guard.inside.size > 0) return load(guard, uid);
      if (processRunsAs(uid)) return;
      await runNetChecked(guard.context, ['nft', '-f', '-'], deleteHostGuardScript(uid));
    }));
}

/** True when the guard table for `uid` is loaded. */
export async function hostGuardLoaded(uid: number, options: NetOptions = {}): Promise<boolean> {
  const result = await runNet(contextOf(options), [
    'nft',
    'list',
    'table',
    HOST_GUARD_FAMILY,
    hostGuardTableName(uid),
  ]);
  return result.exitCode === 0;
}

/**
 * The host:port endpoints a GitLab URL names: its literal address, or every address its name
 * resolves to. A loopback URL (127.0.0.1, localhost, [::1]) is reached by the guest through slirp's
 * 127.0.0.1 (Tart rewrites it to 10.0.2.2), so it opens the port on both loopback addresses.
 */
export async function endpointsOf(url: string): Promise<HostEndpoint[]> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  // The hosts the guest's URLs are rewritten for (model/guest-urls.ts), and so reach as 10.0.2.2.
  const addresses = isLoopbackHost(host)
    ? ['127.0.0.1', '::1']
    : isIP(host) !== 0
        ? [host]
      : await lookup(host, { all: true, verbatim: true }).then(
          (found) => found.map((entry) => entry.address),
          () => [],
        );
  return [...new Set(addresses)].map((address) => ({ address, port }));
}

function serialise<T>(guard: GuardState, step: () => Promise<T>): Promise<T> {
  const next = guard.queue.then(step);
  guard.queue = next.catch(() => undefined);
  return next;
}

async function load(guard: GuardState, uid: number): Promise<void> {
  const allow = [...guard.inside.values()].flat();
  const dns = nameservers(await readFile(guard.resolvConf, 'utf8').catch(() => ''));
  const ruleset = buildHostGuardRuleset({ uid, allow, dns });
  try {
    await runNetChecked(guard.context, ['nft', '-f', '-'], ruleset);
  } catch (cause) {
    throw new TartError(
      'HOST_GUARD_FAILED',
      `cannot load the host guard (nftables table ${HOST_GUARD_FAMILY} ${hostGuardTableName(uid)}) that keeps ` +
        `user-mode VMs off this host's own services: ${cause instanceof Error ? cause.message : String(cause)} ` +
        '(fix: run tart as root with nftables installed, or set [runners.vm] host_guard = false to accept ' +
        "that jobs reach this host's loopback; docs/security.md)",
      { cause },
    );
  }
}

// Another daemon's QEMU may still run as this uid: its rules must then stay.
function processRunsAs(uid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // procfs is read synchronously: a promise-based read of /proc was seen never to settle on Node 20.
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}
