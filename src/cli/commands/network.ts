// `tart network setup|teardown`: the host side of TAP networking (forwarding and the `inet tart`
// nftables table). The daemon sets it up on demand too; teardown removes every Tart TAP.
import type { Command } from 'commander';
import { loadConfigOrEmpty } from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { hostNetworkConfig } from '../../net/host-config.js';
import { reapStaleLeases, setupHostNetwork, teardownHostNetwork } from '../../net/index.js';
import { contextOf, globalOptions } from '../context.js';
import { requireRoot } from '../require-root.js';

interface NetworkFlags {
  netns?: string;
  dns?: string[];
  stateDir?: string;
}

export function registerNetworkCommand(program: Command): void {
  const network = program
    .command('network')
    .description('set up or remove the host side of TAP networking (needs root)');
  network
    .command('setup')
    .description('turn on IPv4 forwarding and load the "inet tart" nftables table (idempotent)')
    .option('--dns <ip...>', "resolvers guests use (default: the host's non-loopback resolvers)")
    .option('--netns <name>', 'work inside this network namespace')
    .option('--state-dir <dir>', 'lease and state directory (default: /run/tart/net)')
    .action(async (flags: NetworkFlags, command: Command) => {
      const context = contextOf(command);
      requireRoot(context, 'network setup', 'it changes ip_forward, nftables and TAP devices');
      const config = hostNetworkConfig(
        await loadConfigOrEmpty(globalOptions(command).configPath, hostDefaults(context.host)),
      );
      const options = netOptions(flags);
      const reaped = await reapStaleLeases(options);
      const state = await setupHostNetwork(config, { ...options, ...(flags.dns ? { dns: flags.dns } : {}) });
      context.stdout.write(
        `network ready: subnet=${config.subnet} table=inet tart dns=${state.dns.join(',') || 'none'} reaped=${reaped.length}\n`,
      );
      if (state.dns.length === 0)
        context.logger.warn('no usable resolver found: guests will have no DNS (pass --dns)');
    });
  network
    .command('teardown')
    .description('remove every Tart TAP, the nftables table, and restore ip_forward (idempotent)')
    .option('--netns <name>', 'work inside this network namespace')
    .option('--state-dir <dir>', 'lease and state directory (default: /run/tart/net)')
    .action(async (flags: NetworkFlags, command: Command) => {
      const context = contextOf(command);
      requireRoot(context, 'network teardown', 'it changes ip_forward, nftables and TAP devices');
      const config = hostNetworkConfig(
        await loadConfigOrEmpty(globalOptions(command).configPath, hostDefaults(context.host)),
      );
      await teardownHostNetwork(config, netOptions(flags));
      context.stdout.write('network removed\n');
    });
}

function netOptions(flags: NetworkFlags): { netns?: string; stateDir?: string } {
  return {
    ...(flags.netns ? { netns: flags.netns } : {}),
    ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
  };
}
