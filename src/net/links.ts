// Creating and deleting the host end of a guest's link: a TAP (what a VMM opens), or a veth pair
// whose peer stands in for the VM (tests and benchmarks put the peer in a "guest" namespace).
import { TartError } from '../errors.js';
import { runNet, runNetChecked, type NetContext } from './net-command.js';
import { slotOfTapName, type SlotAddresses } from './subnet.js';

export type LinkKind = 'tap' | 'veth';

export interface LinkOptions {
  kind: LinkKind;
  /** Owner of the TAP, so an unprivileged or jailed VMM may open it. */
  owner?: { uid: number; gid: number };
}

/** The veth peer's name for a slot (only with kind "veth"). */
export function vethPeerName(tapName: string): string {
  return `${tapName}p`;
}

/**
 * Creates the link with the gateway address on it and brings it up, in one `ip -batch`.
 * Returns false when a link of that name already exists (a slot whose reaping is under way).
 */
export async function createGuestLink(
  context: NetContext,
  slot: SlotAddresses,
  options: LinkOptions,
): Promise<boolean> {
  const create =
    options.kind === 'tap'
      ? `tuntap add dev ${slot.tapName} mode tap${options.owner ? ` user ${options.owner.uid} group ${options.owner.gid}` : ''}`
      : `link add ${slot.tapName} type veth peer name ${vethPeerName(slot.tapName)}`;
  const batch = [
    create,
    `addr add ${slot.gatewayIp}/${slot.prefixLength} dev ${slot.tapName}`,
    `link set dev ${slot.tapName} up`,
  ];
  const result = await runNet(context, ['ip', '-batch', '-'], `${batch.join('\n')}\n`);
  if (result.exitCode === 0) return true;
  if (/exists|busy/i.test(result.stderr) && /Command failed -:1/.test(result.stderr)) return false;
  await deleteLink(context, slot.tapName);
  throw new TartError('NET_LINK_FAILED', `cannot create ${slot.tapName}: ${result.stderr.trim()}`, {
    details: { tapName: slot.tapName, stderr: result.stderr },
  });
}

/** Deletes a link; a link that is already gone is fine. Its routes and address go with it. */
export async function deleteLink(context: NetContext, name: string): Promise<void> {
  const result = await runNet(context, ['ip', 'link', 'del', 'dev', name]);
  if (result.exitCode !== 0 && !/Cannot find device|does not exist/i.test(result.stderr)) {
    throw new TartError('NET_LINK_FAILED', `cannot delete ${name}: ${result.stderr.trim()}`, {
      details: { name },
    });
  }
}

/** Names of every link that looks like one of Tart's guest links (tart<N>). */
export async function listGuestLinks(context: NetContext): Promise<string[]> {
  const output = await runNetChecked(context, ['ip', '-o', 'link', 'show']);
  return output
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && slotOfTapName(name) !== undefined);
}
