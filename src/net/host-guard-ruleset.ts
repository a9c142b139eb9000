// The nftables table that keeps a user-mode (slirp) VM off the host's own services. QEMU's slirp
// turns a guest's connection to 10.0.2.2 (or any host address) into a connect() made by the QEMU
// process itself, so the rule matches QEMU's uid on the output hook: packets from that uid to an
// address of this host (`fib daddr type local`: 127.0.0.0/8, ::1 and every interface address) are
// rejected, except the GitLab endpoints and DNS to the resolvers slirp forwards to. Link-local
// addresses (cloud metadata at 169.254.169.254, whose answers hold the host's credentials) are
// rejected too, as in tap mode. Everything else (outbound NAT for package installs) stays open,
// and replies on connections the host opened (SSH to the guest through slirp's hostfwd) pass as
// established.
import { isIPv4, isIPv6 } from 'node:net';
import { ALWAYS_DENIED } from './ruleset.js';

export const HOST_GUARD_FAMILY = 'inet';

/** One table per QEMU uid, so two guarded uids never replace each other's rules. */
export function hostGuardTableName(uid: number): string {
  return `tart_host_guard_${uid}`;
}

export interface HostEndpoint {
  address: string;
  port: number;
}

export interface HostGuardInput {
  /** The uid every guarded QEMU runs as. */
  uid: number;
  /** TCP endpoints on this host the guest may reach (the GitLab of `url` / `clone_url`). */
  allow: HostEndpoint[];
  /** Resolvers slirp forwards the guest's DNS to; port 53 on them stays open. */
  dns: string[];
}

export function buildHostGuardRuleset(input: HostGuardInput): string {
  const table = `${HOST_GUARD_FAMILY} ${hostGuardTableName(input.uid)}`;
  const allow4 = unique(input.allow.filter((entry) => isIPv4(entry.address)).map(endpointElement));
  const allow6 = unique(input.allow.filter((entry) => isIPv6(entry.address)).map(endpointElement));
  const dns4 = unique(input.dns.filter((ip) => isIPv4(ip)));
  const dns6 = unique(input.dns.filter((ip) => isIPv6(ip)));
  return [
    // Declaring then deleting makes the load idempotent: the table is replaced in one transaction.
    `table ${table} {}`,
    `delete table ${table}`,
    `table ${table} {`,
    set('allow4', 'ipv4_addr . inet_service', allow4),
    set('allow6', 'ipv6_addr . inet_service', allow6),
    set('dns4', 'ipv4_addr', dns4),
    set('dns6', 'ipv6_addr', dns6),
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    `    meta skuid != ${input.uid} accept`,
    `    ip daddr { ${ALWAYS_DENIED.join(', ')} } meta l4proto tcp reject with tcp reset`,
    `    ip daddr { ${ALWAYS_DENIED.join(', ')} } reject`,
    '    fib daddr type != local accept',
    '    ct state established,related accept',
    '    meta l4proto { tcp, udp } th dport 53 ip daddr @dns4 accept',
    '    meta l4proto { tcp, udp } th dport 53 ip6 daddr @dns6 accept',
    '    ip daddr . tcp dport @allow4 accept',
    '    ip6 daddr . tcp dport @allow6 accept',
    // A reset, not a silent drop: the guest's connect fails at once ("connection refused").
    '    meta l4proto tcp reject with tcp reset',
    '    reject',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function deleteHostGuardScript(uid: number): string {
  const table = `${HOST_GUARD_FAMILY} ${hostGuardTableName(uid)}`;
  return `table ${table} {}\ndelete table ${table}\n`;
}

function endpointElement(entry: HostEndpoint): string {
  return `${entry.address} . ${entry.port}`;
}

function set(name: string, type: string, elements: string[]): string {
  const body = elements.length > 0 ? ` elements = { ${elements.join(', ')} }` : '';
  return `  set ${name} { type ${type};${body} }`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
