// What isolates a job's QEMU on this host, as `tart doctor` reports it (docs/security.md): the
// seccomp sandbox every QEMU runs under, the user it runs as, and whether a runner's network
// mode exposes the host's loopback.
import type { TartConfig } from '../config/types.js';
import { QEMU_SANDBOX } from '../vmm/qemu/qemu-args.js';
import type { CheckResult } from './types.js';

export function judgeIsolation(config: TartConfig | undefined, uid: number): CheckResult {
  const vmRunners = (config?.runners ?? []).filter((runner) => runner.executor === 'qemu');
  const userMode = vmRunners.filter((runner) => runner.vm.network === 'user').map((runner) => runner.name);
  const shell = (config?.runners ?? [])
    .filter((runner) => runner.executor === 'shell')
    .map((runner) => runner.name);
  const facts = [
    `QEMU runs with -sandbox ${QEMU_SANDBOX} as uid ${uid}`,
    'no per-runner uid, chroot or cgroup limits',
    ...(userMode.length > 0
      ? [`network = "user" lets jobs reach this host's loopback (${userMode.join(', ')})`]
      : []),
    ...(shell.length > 0 ? [`shell executor isolates nothing (${shell.join(', ')})`] : []),
  ];
  const exposed = userMode.length > 0 || shell.length > 0 || uid === 0;
  return {
    name: 'isolation',
    verdict: exposed ? 'warn' : 'ok',
    fact: facts.join('; '),
    ...(exposed
      ? {
          fix: 'for untrusted jobs use network = "tap", no shell runners, and a dedicated user (docs/security.md)',
        }
      : {}),
  };
}
