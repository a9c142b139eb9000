// Adapts setupVmNetwork to the VM executor's network provider (src/executor/vm): per VM, the
// VMM's TAP settings, the guest's network.env, the lease as data for the VM's handle, and the
// release that deletes the TAP.
import type { NetworkConfig } from '../config/types.js';
import type { GuestNetworkConfig } from '../vmm/guest-contract.js';
import type { VmNetwork } from '../vmm/types.js';
import type { NetOptions } from './options.js';
import { setupVmNetwork, type TapLeaseRecord } from './vm-network.js';

export interface TapNetworkProviderOptions extends NetOptions {
  config: NetworkConfig;
  dns?: string[];
  mtu?: number;
  owner?: { uid: number; gid: number };
}

export function tapNetworkProvider(
  options: TapNetworkProviderOptions,
): (vmId: string) => Promise<{
  vm: VmNetwork;
  guest: GuestNetworkConfig;
  record: TapLeaseRecord;
  release: () => Promise<void>;
}> {
  return async (vmId) => {
    const lease = await setupVmNetwork({ ...options, vmId });
    return {
      vm: { mode: 'tap', tapName: lease.tapName, mac: lease.mac, guestIp: lease.guestIp },
      guest: lease.guest,
      record: lease.record,
      release: lease.teardown,
    };
  };
}
