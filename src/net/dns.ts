// Which resolvers a guest is told to use. Never the host's loopback stub (systemd-resolved's
// 127.0.0.53 is unreachable from a guest): take the upstreams systemd-resolved lists, else
// /etc/resolv.conf's non-loopback IPv4 nameservers.
import { readFile } from 'node:fs/promises';

export const RESOLV_CONF_CANDIDATES = ['/run/systemd/resolve/resolv.conf', '/etc/resolv.conf'];

export type ReadText = (path: string) => Promise<string | undefined>;

const readTextFile: ReadText = (path) => readFile(path, 'utf8').catch(() => undefined);

/** Non-loopback IPv4 nameservers of the first resolv.conf that has any; [] when none does. */
export async function hostResolvers(read: ReadText = readTextFile): Promise<string[]> {
  for (const path of RESOLV_CONF_CANDIDATES) {
    const text = await read(path);
    const servers = text === undefined ? [] : nameservers(text).filter((ip) => !ip.startsWith('127.'));
    if (servers.length > 0) return servers.slice(0, 3);
  }
  return [];
}

export function nameservers(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line)?.[1])
    .filter((ip): ip is string => ip !== undefined);
}
