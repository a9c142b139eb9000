// TAP networking for VMs: routed /30 per VM, nftables isolation. See README.md for the design.
export {
  setupVmNetwork,
  reapStaleLeases,
  releaseRecordedLease,
  type TapLeaseRecord,
  type VmNetworkLease,
  type VmNetworkRequest,
} from './vm-network.js';
export {
  setupHostNetwork,
  teardownHostNetwork,
  type HostNetworkOptions,
  type HostNetworkState,
} from './host-network.js';
export type { NetOptions } from './options.js';
export { hostResolvers } from './dns.js';
export { tapNetworkProvider, type TapNetworkProviderOptions } from './vm-network-provider.js';
export { hostNetworkConfig, usesTap, DEFAULT_NETWORK_CONFIG } from './host-config.js';
