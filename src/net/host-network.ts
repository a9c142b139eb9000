// Host-wide preparation for TAP networking, done once (daemon start or `tart network setup`) and
// undone by `tart network teardown`: IPv4 forwarding on, and the `inet tart` nftables table.
// What was changed is saved in <stateDir>/host.json so teardown restores the previous value.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkConfig } from '../config/types.js';
import { hostResolvers } from './dns.js';
import { deleteLink, listGuestLinks } from './links.js';
import { listLeases, releaseSlot } from './leases.js';
import { runNet, runNetChecked, type NetContext } from './net-command.js';
import { contextOf, stateDirOf, type NetOptions } from './options.js';
import { buildRuleset, deleteTableScript, TABLE_FAMILY, TABLE_NAME } from './ruleset.js';
import { parseGuestSubnet } from './subnet.js';

export interface HostNetworkOptions extends NetOptions {
  /** Resolvers for guests; default: the host's non-loopback resolvers. */
  dns?: string[];
}

export interface HostNetworkState {
  /** Resolvers the table opens port 53 to, and that guests are given. */
  dns: string[];
  /** ip_forward before Tart set it; restored on teardown. */
  ipForwardBefore?: string;
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** Turns on forwarding and (re)loads the table. Idempotent. */
export async function setupHostNetwork(
  config: NetworkConfig,
  options: HostNetworkOptions = {},
): Promise<HostNetworkState> {
  const context = contextOf(options);
  const stateDir = stateDirOf(options);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const saved = await readHostState(stateDir);
  const dns = options.dns ?? (await hostResolvers());
  const ipForward = (await runNetChecked(context, ['cat', IP_FORWARD])).trim();
  const state: HostNetworkState = { dns, ipForwardBefore: saved?.ipForwardBefore ?? ipForward };
  await writeFile(join(stateDir, 'host.json'), `${JSON.stringify(state)}\n`, { mode: 0o600 });
  if (ipForward !== '1') await runNetChecked(context, ['tee', IP_FORWARD], '1\n');
  parseGuestSubnet(config.subnet);
  const ruleset = buildRuleset({
    subnet: config.subnet,
    denyRanges: config.denyRanges,
    allowHosts: config.allowHosts,
    dns,
  });
  await runNetChecked(context, ['nft', '-f', '-'], ruleset);
  return state;
}

/**
 * Removes every guest link (leased or orphaned), the table and the saved state, and restores
 * ip_forward. Idempotent; meant for when no job runs (it pulls the network from under live VMs).
 */
export async function teardownHostNetwork(config: NetworkConfig, options: NetOptions = {}): Promise<void> {
  const context = contextOf(options);
  const stateDir = stateDirOf(options);
  for (const lease of await listLeases(stateDir)) await releaseSlot(stateDir, lease.slot);
  for (const name of await listGuestLinks(context)) await deleteLink(context, name);
  await deleteBridge(context, config.bridge);
  await runNetChecked(context, ['nft', '-f', '-'], deleteTableScript());
  const saved = await readHostState(stateDir);
  if (saved?.ipForwardBefore !== undefined && saved.ipForwardBefore !== '1') {
    await runNetChecked(context, ['tee', IP_FORWARD], `${saved.ipForwardBefore}\n`);
  }
  await rm(stateDir, { recursive: true, force: true });
}

/** True when the `inet tart` table is loaded. */
export async function hostNetworkReady(context: NetContext): Promise<boolean> {
  const result = await runNet(context, ['nft', 'list', 'table', TABLE_FAMILY, TABLE_NAME]);
  return result.exitCode === 0;
}

export async function readHostState(stateDir: string): Promise<HostNetworkState | undefined> {
  const text = await readFile(join(stateDir, 'host.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as HostNetworkState;
  } catch {
    return undefined;
  }
}

// Tart routes a /30 per VM and makes no bridge, but one named like `[runners.network] bridge`
// from an earlier bridged setup is removed, and only if it really is a bridge.
async function deleteBridge(context: NetContext, name: string): Promise<void> {
  const result = await runNet(context, ['ip', '-d', '-o', 'link', 'show', 'dev', name]);
  if (result.exitCode === 0 && /\sbridge\s/.test(result.stdout)) await deleteLink(context, name);
}
