// Address plan of the routed topology: the guest subnet is cut into /30 slots. Slot n holds
// network = base + 4n, the host end of the TAP (the guest's gateway) = +1, the guest = +2.
// Everything about a slot (TAP name, addresses, MAC) is derived from its number, so a lease
// only needs to remember the number.
import { UserError } from '../errors.js';

export const SLOT_PREFIX_LENGTH = 30;
/** Interface names are at most 15 bytes; "tart" + 5 digits stays well inside. */
export const TAP_PREFIX = 'tart';
/** More slots than this are never handed out, whatever the subnet (keeps names short). */
export const MAX_SLOTS = 65536;

export interface GuestSubnet {
  base: number;
  prefixLength: number;
  slotCount: number;
  cidr: string;
}

export interface SlotAddresses {
  slot: number;
  tapName: string;
  gatewayIp: string;
  guestIp: string;
  prefixLength: number;
  /** Locally administered unicast: 06:00 + the guest's four address bytes (Firecracker's convention). */
  mac: string;
}

export function parseGuestSubnet(cidr: string): GuestSubnet {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  const prefixLength = match ? Number(match[2]) : NaN;
  if (!match || !(prefixLength >= 8 && prefixLength <= SLOT_PREFIX_LENGTH)) {
    throw new UserError('NET_BAD_SUBNET', `subnet "${cidr}" must be an IPv4 CIDR between /8 and /30`);
  }
  const address = ipToNumber(match[1] ?? '');
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  const base = (address & mask) >>> 0;
  const slotCount = Math.min(2 ** (SLOT_PREFIX_LENGTH - prefixLength), MAX_SLOTS);
  return { base, prefixLength, slotCount, cidr: `${numberToIp(base)}/${prefixLength}` };
}

export function slotAddresses(subnet: GuestSubnet, slot: number): SlotAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= subnet.slotCount) {
    throw new UserError('NET_BAD_SLOT', `slot ${slot} is outside ${subnet.cidr} (${subnet.slotCount} slots)`);
  }
  const network = (subnet.base + slot * 4) >>> 0;
  const guest = network + 2;
  const bytes = [24, 16, 8, 0].map((shift) => ((guest >>> shift) & 0xff).toString(16).padStart(2, '0'));
  return {
    slot,
    tapName: `${TAP_PREFIX}${slot}`,
    gatewayIp: numberToIp(network + 1),
    guestIp: numberToIp(guest),
    prefixLength: SLOT_PREFIX_LENGTH,
    mac: `06:00:${bytes.join(':')}`,
  };
}

/** The slot a TAP name belongs to, or undefined for names that are not Tart's. */
export function slotOfTapName(name: string): number | undefined {
  const match = new RegExp(`^${TAP_PREFIX}(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new UserError('NET_BAD_ADDRESS', `"${ip}" is not an IPv4 address`);
  }
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

export function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
