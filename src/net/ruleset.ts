// The nftables table `inet tart`, as one script loaded atomically with `nft -f -`. Rules match
// Tart's TAPs by name ("tart*"), so adding or removing a VM never touches the ruleset.
//
// Policy for traffic from a guest:
//   - spoofed sources are dropped (reverse-path check: a guest may only use its own /30);
//   - to another guest: dropped (forward chain, TAP to TAP);
//   - to the host itself: dropped except replies, DNS to the configured resolvers and allow_hosts;
//   - to the world: allowed and masqueraded, except link-local/metadata and deny_ranges, which
//     allow_hosts (ip or ip:port) may reopen; DNS resolvers are always reachable on port 53;
//   - IPv6: dropped (guests are configured with IPv4 only).
// Traffic towards a guest that it did not start is dropped; the host still reaches the guest's
// sshd because locally generated packets pass the output hook, not forward.
import { TAP_PREFIX, ipToNumber, numberToIp } from './subnet.js';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'tart';

export interface RulesetInput {
  /** The guest subnet, e.g. 10.201.0.0/16. */
  subnet: string;
  denyRanges: string[];
  /** `ip` or `ip:port`; IPv6 entries are ignored (guests have no IPv6). */
  allowHosts: string[];
  /** Resolvers guests are told to use; port 53 on them is always open. */
  dns: string[];
}

/** Always denied, whatever deny_ranges says: link-local, which holds cloud metadata (169.254.169.254). */
export const ALWAYS_DENIED = ['169.254.0.0/16'];

export function buildRuleset(input: RulesetInput): string {
  const tap = `"${TAP_PREFIX}*"`;
  const deny = unique([...ALWAYS_DENIED, ...input.denyRanges].filter(isIpv4Cidr).map(normaliseCidr));
  const allow = input.allowHosts.map(parseAllowHost).filter((entry) => entry !== undefined);
  const allowAddresses = unique(allow.filter((entry) => entry.port === undefined).map((entry) => entry.ip));
  const allowPorts = unique(
    allow.filter((entry) => entry.port !== undefined).map((entry) => `${entry.ip} . ${entry.port}`),
  );
  const dns = unique(input.dns.filter(isIpv4));
  return [
    // Declaring then deleting makes the load idempotent: the table is replaced in one transaction.
    `table ${TABLE_FAMILY} ${TABLE_NAME} {}`,
    `delete table ${TABLE_FAMILY} ${TABLE_NAME}`,
    `table ${TABLE_FAMILY} ${TABLE_NAME} {`,
    set('deny_ranges', 'ipv4_addr', deny, true),
    set('allow_hosts', 'ipv4_addr', allowAddresses, true),
    set('allow_host_ports', 'ipv4_addr . inet_service', allowPorts, false),
    set('dns_servers', 'ipv4_addr', dns, false),
    '  chain prerouting {',
    '    type filter hook prerouting priority raw; policy accept;',
    `    iifname ${tap} fib saddr . iif oif missing drop`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    iifname != ${tap} accept`,
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    meta l4proto { tcp, udp } th dport 53 ip daddr @dns_servers accept',
    '    ip daddr @allow_hosts accept',
    '    meta l4proto { tcp, udp } ip daddr . th dport @allow_host_ports accept',
    '    drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname ${tap} oifname ${tap} drop`,
    `    oifname ${tap} ct state established,related accept`,
    `    oifname ${tap} drop`,
    `    iifname != ${tap} accept`,
    '    meta nfproto ipv6 drop',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    meta l4proto { tcp, udp } th dport 53 ip daddr @dns_servers accept',
    '    ip daddr @allow_hosts accept',
    '    meta l4proto { tcp, udp } ip daddr . th dport @allow_host_ports accept',
    '    ip daddr @deny_ranges drop',
    '    accept',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${normaliseCidr(input.subnet)} oifname != ${tap} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export function deleteTableScript(): string {
  return `table ${TABLE_FAMILY} ${TABLE_NAME} {}\ndelete table ${TABLE_FAMILY} ${TABLE_NAME}\n`;
}

function set(name: string, type: string, elements: string[], interval: boolean): string {
  const flags = interval ? ' flags interval; auto-merge;' : '';
  const body = elements.length > 0 ? ` elements = { ${elements.join(', ')} }` : '';
  return `  set ${name} { type ${type};${flags}${body} }`;
}

function parseAllowHost(entry: string): { ip: string; port?: number } | undefined {
  const match = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(entry.trim());
  if (!match || !isIpv4(match[1] ?? '')) return undefined;
  return match[2] === undefined ? { ip: match[1] ?? '' } : { ip: match[1] ?? '', port: Number(match[2]) };
}

// nft refuses prefixes with host bits set (10.0.0.1/8); mask them off.
function normaliseCidr(cidr: string): string {
  const [address = '', bits = '32'] = cidr.split('/');
  const length = Number(bits);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return `${numberToIp((ipToNumber(address) & mask) >>> 0)}/${length}`;
}

function isIpv4(text: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(text) && text.split('.').every((part) => Number(part) <= 255);
}

function isIpv4Cidr(text: string): boolean {
  const [address = '', bits, ...rest] = text.split('/');
  return (
    rest.length === 0 && isIpv4(address) && bits !== undefined && /^\d+$/.test(bits) && Number(bits) <= 32
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
