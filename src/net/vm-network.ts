// One VM's network: lease a /30 slot, create its TAP with the gateway address, and hand back
// what the VMM (TAP name, MAC) and the guest's seed (address, gateway, DNS) need.
import type { NetworkConfig } from '../config/types.js';
import type { GuestNetworkConfig } from '../vmm/guest-contract.js';
import { createGuestLink, deleteLink, type LinkKind } from './links.js';
import {
  claimSlot,
  currentHolder,
  isStale,
  listLeases,
  releaseSlot,
  removeFile,
  takeForReaping,
} from './leases.js';
import { hostNetworkReady, readHostState, setupHostNetwork } from './host-network.js';
import { contextOf, stateDirOf, type NetOptions } from './options.js';
import { parseGuestSubnet, slotAddresses, TAP_PREFIX } from './subnet.js';

export interface VmNetworkRequest extends NetOptions {
  vmId: string;
  config: NetworkConfig;
  /** Resolvers for the guest; default: those the host network was set up with. */
  dns?: string[];
  mtu?: number;
  /** "veth" stands in for a VM in tests and benchmarks: the peer is `<tapName>p`. */
  link?: LinkKind;
  owner?: { uid: number; gid: number };
}

export interface VmNetworkLease {
  slot: number;
  tapName: string;
  mac: string;
  guestIp: string;
  gatewayIp: string;
  prefixLength: number;
  dns: string[];
  /** For the seed's network.env. */
  guest: GuestNetworkConfig;
  /** Deletes the TAP and frees the slot. Idempotent; safe to call after a failed VM start. */
  teardown(): Promise<void>;
}

export async function setupVmNetwork(request: VmNetworkRequest): Promise<VmNetworkLease> {
  const context = contextOf(request);
  const stateDir = stateDirOf(request);
  const subnet = parseGuestSubnet(request.config.subnet);
  // Fail closed: no TAP is handed to a VM unless the isolation rules are loaded. The check runs
  // alongside the TAP's creation (it costs a process spawn) and both must succeed.
  const hostReady = (async () => {
    if (!(await hostNetworkReady(context))) {
      await setupHostNetwork(request.config, { ...request, ...(request.dns ? { dns: request.dns } : {}) });
    }
  })();
  const claimed = claimSlot({
    stateDir,
    slotCount: subnet.slotCount,
    vmId: request.vmId,
    holder: await currentHolder(),
    isUsable: (slot) =>
      createGuestLink(context, slotAddresses(subnet, slot), {
        kind: request.link ?? 'tap',
        ...(request.owner ? { owner: request.owner } : {}),
      }).catch(async (error: unknown) => {
        await releaseSlot(stateDir, slot);
        throw error;
      }),
  });
  const [ready, claim] = await Promise.allSettled([hostReady, claimed]);
  if (ready.status === 'rejected' || claim.status === 'rejected') {
    if (claim.status === 'fulfilled') {
      await deleteLink(context, slotAddresses(subnet, claim.value.slot).tapName).catch(() => undefined);
      await releaseSlot(stateDir, claim.value.slot);
    }
    throw ready.status === 'rejected' ? ready.reason : (claim as PromiseRejectedResult).reason;
  }
  const lease = claim.value;
  const dns = request.dns ?? (await readHostState(stateDir))?.dns ?? [];
  const slot = slotAddresses(subnet, lease.slot);
  let done: Promise<void> | undefined;
  const teardown = () =>
    (done ??= (async () => {
      await deleteLink(context, slot.tapName);
      await releaseSlot(stateDir, lease.slot);
    })());
  return {
    slot: lease.slot,
    tapName: slot.tapName,
    mac: slot.mac,
    guestIp: slot.guestIp,
    gatewayIp: slot.gatewayIp,
    prefixLength: slot.prefixLength,
    dns,
    guest: {
      address: `${slot.guestIp}/${slot.prefixLength}`,
      gateway: slot.gatewayIp,
      dns,
      ...(request.mtu === undefined ? {} : { mtu: request.mtu }),
    },
    teardown,
  };
}

/** Deletes the TAPs of leases whose holder process is gone, and frees their slots. */
export async function reapStaleLeases(options: NetOptions = {}): Promise<number[]> {
  const context = contextOf(options);
  const stateDir = stateDirOf(options);
  const reaped: number[] = [];
  for (const lease of await listLeases(stateDir)) {
    if (!(await isStale(lease))) continue;
    const tombstone = await takeForReaping(stateDir, lease);
    if (tombstone === undefined) continue;
    await deleteLink(context, `${TAP_PREFIX}${lease.slot}`);
    await removeFile(tombstone);
    reaped.push(lease.slot);
  }
  return reaped;
}
