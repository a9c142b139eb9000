// What isolates a job's VMM on this host, as `tart doctor` reports it (docs/security.md): the
// seccomp sandbox every QEMU runs under, the user it runs as, whether it is chrooted, whether a
// user-mode runner is behind the host guard (QEMU as `vm_user`, nftables keeping it off this
// host's own services), and whether Firecracker runs under its jailer. cgroup limits are their
// own check (cgroup-check.ts).
import type { RunnerConfig, TartConfig } from '../config/types.js';
import { QEMU_SANDBOX, QEMU_SANDBOX_JAILED } from '../vmm/qemu/qemu-args.js';
import type { CheckResult } from './types.js';

export function judgeIsolation(config: TartConfig | undefined, uid: number): CheckResult {
  const runners = config?.runners ?? [];
  const qemu = runners.filter((runner) => runner.executor === 'qemu');
  const userMode = qemu.filter((runner) => runner.vm.network === 'user');
  const guarded = userMode.filter((runner) => runner.vm.hostGuard);
  const exposed = userMode.filter((runner) => !runner.vm.hostGuard);
  const asDaemon = qemu.filter((runner) => !guarded.includes(runner));
  const shell = runners.filter((runner) => runner.executor === 'shell');
  const firecracker = runners.filter((runner) => runner.executor === 'firecracker');
  const jailed = firecracker.filter((runner) => runner.firecracker.useJailer);
  const unjailed = firecracker.filter((runner) => !runner.firecracker.useJailer);
  // The guard starts QEMU as another uid and loads nftables: both need root.
  const guardImpossible = guarded.length > 0 && uid !== 0;
  const vmUsers = [...new Set(guarded.map((runner) => runner.vm.vmUser))].join(', ');
  const facts = [
    ...(asDaemon.length > 0 || qemu.length === 0
      ? [`QEMU runs with -sandbox ${QEMU_SANDBOX} as uid ${uid}, not chrooted${asDaemon.length > 0 ? ` (${names(asDaemon)})` : ''}`]
      : []),
    ...(guarded.length > 0
      ? [
          `host guard ${guardImpossible ? 'cannot be loaded (tart is not root)' : 'on'} for network = "user" ` +
            `(${names(guarded)}): QEMU as ${vmUsers}, only GitLab's host:port open on this host's addresses`,
          `QEMU jailed per VM (${names(guarded)}): -chroot into an empty dir of its VM, -runas ${vmUsers} with no ` +
            `capability, -sandbox ${QEMU_SANDBOX_JAILED} (set*uid only for that drop)`,
        ]
      : []),
    ...(jailed.length > 0 ? [`Firecracker under its jailer: chroot, uid, cgroups (${names(jailed)})`] : []),
    ...(unjailed.length > 0 ? [`use_jailer = false: Firecracker runs as uid ${uid} with no chroot (${names(unjailed)})`] : []),
    ...(exposed.length > 0
      ? [`host_guard = false: network = "user" lets jobs reach this host's loopback (${names(exposed)})`]
      : []),
    ...(shell.length > 0 ? [`shell executor isolates nothing (${names(shell)})`] : []),
  ];
  const weak =
    exposed.length > 0 || shell.length > 0 || unjailed.length > 0 || (uid === 0 && (asDaemon.length > 0 || qemu.length === 0));
  const verdict = guardImpossible ? 'fail' : weak ? 'warn' : 'ok';
  return {
    name: 'isolation',
    verdict,
    fact: facts.join('; '),
    ...(guardImpossible
      ? { fix: 'run tart as root (the packaged unit does), or set [runners.vm] host_guard = false (docs/security.md)' }
      : weak
        ? {
            fix: 'for untrusted jobs keep host_guard on (or use network = "tap"), use_jailer = true, no shell runners, and a dedicated user (docs/security.md)',
          }
        : {}),
  };
}

function names(runners: RunnerConfig[]): string {
  return runners.map((runner) => runner.name).join(', ');
}
