// Which [runners.network] governs the host: the one nftables table serves every runner, so all
// runners that use TAP networking must agree on it.
import { UserError } from '../errors.js';
import { DEFAULT_DENY_RANGES } from '../config/schema.js';
import type { NetworkConfig, RunnerConfig, TartConfig } from '../config/types.js';

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  bridge: 'tart0',
  subnet: '10.201.0.0/16',
  allowHosts: [],
  denyRanges: DEFAULT_DENY_RANGES,
};

export function usesTap(runner: RunnerConfig): boolean {
  return runner.executor !== 'shell' && runner.vm.network === 'tap';
}

/** The shared network config of the TAP runners, or the defaults when no runner uses TAP. */
export function hostNetworkConfig(config: TartConfig): NetworkConfig {
  const tapRunners = config.runners.filter(usesTap);
  const first = tapRunners[0];
  if (first === undefined) return DEFAULT_NETWORK_CONFIG;
  const key = (network: NetworkConfig) => JSON.stringify(network);
  const differing = tapRunners.find((runner) => key(runner.network) !== key(first.network));
  if (differing !== undefined) {
    throw new UserError(
      'NET_CONFLICTING_CONFIG',
      `runners "${first.name}" and "${differing.name}" have different [runners.network] settings; TAP runners share one firewall table, so they must agree`,
    );
  }
  return first.network;
}
