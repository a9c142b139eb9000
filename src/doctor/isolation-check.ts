// What isolates a job's QEMU on this host, as `tart doctor` reports it (docs/security.md): the
// seccomp sandbox every QEMU runs under, the user it runs as, and whether a user-mode runner is
// behind the host guard (QEMU as `vm_user`, nftables keeping it off this host's own services).
import type { RunnerConfig, TartConfig } from '../config/types.js';
import { QEMU_SANDBOX } from '../vmm/qemu/qemu-args.js';
import type { CheckResult } from './types.js';

export function judgeIsolation(config: TartConfig | undefined, uid: number): CheckResult {
  const runners = config?.runners ?? [];
  const qemu = runners.filter((runner) => runner.executor === 'qemu');
  const userMode = qemu.filter((runner) => runner.vm.network === 'user');
  const guarded = userMode.filter((runner) => runner.vm.hostGuard);
  const exposed = userMode.filter((runner) => !runner.vm.hostGuard);
  const asDaemon = qemu.filter((runner) => !guarded.includes(runner));
  const shell = runners.filter((runner) => runner.executor === 'shell');
  // The guard starts QEMU as another uid and loads nftables: both need root.
  const guardImpossible = guarded.length > 0 && uid !== 0;
  const facts = [
    `QEMU runs with -sandbox ${QEMU_SANDBOX}${asDaemon.length > 0 || qemu.length === 0 ? ` as uid ${uid}` : ''}`,
    ...(guarded.length > 0
      ? [
          `host guard ${guardImpossible ? 'cannot be loaded (tart is not root)' : 'on'} for network = "user" ` +
            `(${names(guarded)}): QEMU as ${[...new Set(guarded.map((runner) => runner.vm.vmUser))].join(', ')}, ` +
            "only GitLab's host:port open on this host's addresses",
        ]
      : []),
    'no chroot or cgroup limits',
    ...(exposed.length > 0
      ? [`host_guard = false: network = "user" lets jobs reach this host's loopback (${names(exposed)})`]
      : []),
    ...(shell.length > 0 ? [`shell executor isolates nothing (${names(shell)})`] : []),
  ];
  const weak = exposed.length > 0 || shell.length > 0 || (uid === 0 && (asDaemon.length > 0 || qemu.length === 0));
  const verdict = guardImpossible ? 'fail' : weak ? 'warn' : 'ok';
  return {
    name: 'isolation',
    verdict,
    fact: facts.join('; '),
    ...(guardImpossible
      ? { fix: 'run tart as root (the packaged unit does), or set [runners.vm] host_guard = false (docs/security.md)' }
      : weak
        ? {
            fix: 'for untrusted jobs keep host_guard on (or use network = "tap"), no shell runners, and a dedicated user (docs/security.md)',
          }
        : {}),
  };
}

function names(runners: RunnerConfig[]): string {
  return runners.map((runner) => runner.name).join(', ');
}
