// What a user-mode QEMU runner needs so its jobs cannot reach this host's own services: QEMU
// started as `[runners.vm] vm_user`, and the host guard for that uid entered around every VM with
// only the runner's GitLab (`url`, `clone_url`) open (src/net/host-guard.ts).
import { DEFAULT_VM_USER } from '../../config/schema.js';
import type { RunnerConfig } from '../../config/types.js';
import { TartError } from '../../errors.js';
import { endpointsOf, enterHostGuard } from '../../net/host-guard.js';
import { resolveVmUser, type VmUser } from './vm-user.js';

export interface GuardedUserNetwork {
  runAs: () => Promise<VmUser>;
  hostGuard: () => Promise<() => Promise<void>>;
}

/** The guard settings for `runner`, or undefined when it is not guarded (tap, firecracker, opted out). */
export function guardedUserNetwork(runner: RunnerConfig): GuardedUserNetwork | undefined {
  if (runner.executor !== 'qemu' || runner.vm.network !== 'user' || !runner.vm.hostGuard) return undefined;
  let user: Promise<VmUser> | undefined;
  // Looked up once; a user created after a failed lookup is found by the next VM.
  const runAs = () =>
    (user ??= resolveVmUser(runner.vm.vmUser, { defaultUser: DEFAULT_VM_USER }).catch((error: unknown) => {
      user = undefined;
      throw error;
    }));
  const urls = [runner.url, ...(runner.cloneUrl ? [runner.cloneUrl] : [])];
  return {
    runAs,
    hostGuard: async () => {
      // Starting QEMU as another uid and loading nftables both need root; say so before trying.
      if (process.getuid?.() !== 0) throw notRoot();
      const { uid } = await runAs();
      const endpoints = (await Promise.all(urls.map((url) => endpointsOf(url)))).flat();
      return enterHostGuard(uid, endpoints);
    },
  };
}

function notRoot(): TartError {
  return new TartError(
    'HOST_GUARD_FAILED',
    'the host guard, which keeps user-mode VMs off this host\'s own services, needs tart to run as root ' +
      '(it starts QEMU as [runners.vm] vm_user and loads an nftables table) ' +
      '(fix: run tart as root, use network = "tap", or set [runners.vm] host_guard = false to accept that ' +
      "jobs reach this host's loopback; docs/security.md)",
  );
}
