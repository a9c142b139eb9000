// A daemon given capabilities as a non-root user (systemd's AmbientCapabilities= under User=tart)
// holds them in its ambient set, which every program it starts inherits, whatever uid that program
// runs as. A VMM, a shell job or an image tool must get none of them: every child starts through
// setpriv (util-linux), which clears the inheritable and ambient sets before it runs the program,
// except src/net's ip and nft, which need CAP_NET_ADMIN (process/spawn.ts spawnCapableChild).
import { readFileSync } from 'node:fs';

/** util-linux's setpriv; lowering capabilities needs no privilege. */
export const SETPRIV = 'setpriv';

let ownAmbient: bigint | undefined;

/** This process's ambient capability set (CapAmb of /proc/self/status), read once. */
export function ambientCapabilities(readStatus: () => string = () => readFileSync('/proc/self/status', 'utf8')): bigint {
  if (ownAmbient !== undefined) return ownAmbient;
  let status = '';
  try {
    status = readStatus();
  } catch {
    // No procfs: nothing is known to be inherited.
  }
  ownAmbient = parseCapabilitySet(status, 'CapAmb');
  return ownAmbient;
}

/** The `name` set (CapEff, CapAmb, …) of a /proc/<pid>/status text; 0 when absent. */
export function parseCapabilitySet(status: string, name: string): bigint {
  const hex = new RegExp(`^${name}:\\s+([0-9a-f]+)$`, 'm').exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** `command args` so that it starts with no capability inherited from this process. */
export function withoutInheritedCapabilities(
  command: string,
  args: readonly string[],
  ambient: bigint = ambientCapabilities(),
): [string, string[]] {
  if (ambient === 0n) return [command, [...args]];
  return [SETPRIV, ['--inh-caps=-all', '--ambient-caps=-all', '--', command, ...args]];
}
