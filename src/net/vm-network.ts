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
  readLease,
  releaseSlot,
  removeFile,
  takeForReaping,
  type Lease,
} from './leases.js';
import { hostNetworkReady, readHostState, setupHostNetwork } from './host-network.js';
import type { NetContext } from './net-command.js';
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
  /** The lease as data, for the VM's handle: another process releases it with releaseRecordedLease. */
  record: TapLeaseRecord;
  /**
   * Deletes the TAP and frees the slot, unless another process released them first (then the slot
   * may hold another VM's lease, which is left alone). Idempotent; safe after a failed VM start.
   */
  teardown(): Promise<void>;
}

/** A VM's lease as its handle records it: enough for any process on the host to release it. */
export interface TapLeaseRecord {
  lease: Lease;
  tapName: string;
  stateDir: string;
  netns?: string;
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
  const record: TapLeaseRecord = {
    lease,
    tapName: slot.tapName,
    stateDir,
    ...(request.netns === undefined ? {} : { netns: request.netns }),
  };
  let done: Promise<void> | undefined;
  const teardown = () => (done ??= releaseLease(record, context));
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
    record,
    teardown,
  };
}

/**
 * Releases a VM's lease from any process, the one that set it up or another that took the VM over
 * through its handle: deletes the TAP and frees the slot, but only while the slot still holds this
 * very lease. Idempotent.
 */
export function releaseRecordedLease(record: TapLeaseRecord, options: Pick<NetOptions, 'run'> = {}): Promise<void> {
  return releaseLease(record, contextOf({ ...options, ...(record.netns === undefined ? {} : { netns: record.netns }) }));
}

// The TAP goes while the lease still names it, so no VM that claims the slot next can find the
// old TAP in its way; the lease is then taken by rename (of two releasers only one wins) and removed.
async function releaseLease(record: TapLeaseRecord, context: NetContext): Promise<void> {
  const current = await readLease(record.stateDir, record.lease.slot);
  if (!sameLease(current, record.lease)) return;
  await deleteLink(context, record.tapName);
  const tombstone = await takeForReaping(record.stateDir, record.lease);
  if (tombstone !== undefined) await removeFile(tombstone);
}

function sameLease(a: Lease | undefined, b: Lease): boolean {
  return a?.vmId === b.vmId && a.createdAt === b.createdAt && a.holder.pid === b.holder.pid;
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
