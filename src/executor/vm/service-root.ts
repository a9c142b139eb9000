// The guest side of a job's services (#11): each service's image disk becomes a root of its own
// (the job image's mechanism, image-root.ts), its process runs chrooted there in the background,
// with a clean environment, its output goes to a log file and its exit status to a file beside it.
// Services share the VM's network namespace, so every alias is 127.0.0.1 in /etc/hosts, and the
// readiness check dials 127.0.0.1. Pure: these build argv and text; service-runtime.ts runs them.
import { posix } from 'node:path';
import { rootPaths, rootSetupCommand, type GuestTools, type ResolvedUser, type RootImageConfig } from './image-root.js';

/** Where service `index` lives in the guest: its root, its log (each line stamped) and its exit status file. */
export function serviceGuestPaths(index: number): ReturnType<typeof rootPaths> & { stampedLog: string; exitStatus: string } {
  const paths = rootPaths(`/run/tart-service-${index}`);
  return { ...paths, stampedLog: `${paths.base}/output.stamped`, exitStatus: `${paths.base}/exit-status` };
}

/** Builds service `index`'s root from its disk at `device`, resolving its image's `user` when it names one, with its VOLUMEs. */
export function serviceRootSetupCommand(index: number, device: string, buildsDir: string, image: RootImageConfig = {}, tools: GuestTools = {}): string[] {
  return rootSetupCommand({ device, base: serviceGuestPaths(index).base, layer: `service-${index}`, buildsDir, ...image, ...tools });
}

/** The /etc/hosts lines that make each service's aliases resolve to it. */
export function serviceHostsLines(aliases: readonly (readonly string[])[]): string {
  return aliases
    .filter((names) => names.length > 0)
    .map((names) => `127.0.0.1\t${names.join(' ')}\n`)
    .join('');
}

// bash in the helper root: each line of the service's output goes to the log after the time it was
// read, as Docker stamps a container's log (RFC3339Nano in UTC; $EPOCHREALTIME has microseconds,
// and no process is started per line). Both readers of the log show the stamps: the readiness
// warning (`docker logs --timestamps`) and CI_DEBUG_SERVICES. A last line without a newline is kept.
// bash reads a pipe a byte per read(2): 100,000 lines (5.8 MB) took 3.3 CPU-s on the host.
const STAMP_SCRIPT = [
  'export TZ=UTC',
  'while IFS= read -r line || [ -n "$line" ]; do',
  '  t=$EPOCHREALTIME',
  '  printf \'%(%Y-%m-%dT%H:%M:%S)T.%s000Z %s\\n\' "${t%.*}" "${t#*.}" "$line"',
  'done',
].join('\n');

// Busybox sh ($0 is busybox); returns at once: the service runs in a background subshell, its
// output through the stamper, which records its status once the stamper has written every line.
// The working dir is made first, as Docker makes a missing WORKDIR.
const START_SCRIPT = [
  'stamped=$1 status=$2 workdir=$3; shift 3',
  '"$0" mkdir -p "$workdir" || exit 1',
  `({ "$@" </dev/null 2>&1; echo $? >"$status.new"; } | bash -c '${STAMP_SCRIPT.replaceAll("'", "'\\''")}' >"$stamped"; "$0" mv "$status.new" "$status") </dev/null >/dev/null 2>&1 &`,
].join('\n');

// The helper root's util-linux: setpriv sets the gid and supplementary groups while still root,
// then nsenter chroots, changes to the working dir and drops to the uid, so the process runs as
// the image's USER in its WORKDIR (coreutils chroot, as user stages use, always starts in "/").
const SETPRIV = '/usr/bin/setpriv';
const NSENTER = '/usr/bin/nsenter';

/**
 * Starts service `index` with exactly `env` (KEY=value) and `argv` in its root, in `workingDir`
 * (the image's WORKDIR, `/` by default), as `user` when its image names one: busybox nsenter does
 * the chroot and the chdir for root, util-linux for another user.
 */
export function serviceStartCommand(
  index: number,
  options: { env: readonly string[]; argv: readonly string[]; workingDir?: string; user?: ResolvedUser },
): string[] {
  const paths = serviceGuestPaths(index);
  const b = paths.busybox;
  const workdir = `${paths.root}${posix.resolve('/', options.workingDir ?? '/')}`.replace(/\/$/, '');
  const { user } = options;
  const enter = user
    ? [SETPRIV, `--regid=${user.gid}`, `--groups=${user.groups.join(',')}`, '--', NSENTER, `--root=${paths.root}`, `--wd=${workdir}`, `--setuid=${user.uid}`, '--']
    : [b, 'nsenter', `-r${paths.root}`, `-w${workdir}`];
  return [b, 'sh', '-c', START_SCRIPT, b, paths.stampedLog, paths.exitStatus, workdir, b, 'env', '-i', ...options.env, ...enter, ...options.argv];
}

/** Exit codes of the readiness check. */
export const READINESS_EXIT = { listening: 0, timedOut: 2, exited: 3 } as const;

// bash in the helper root (its /dev/tcp dials); every port is dialled four times a second (gitlab-
// runner's health check: once a second; a job should not wait most of a second for a service
// that is already up); a service whose process ended stops the wait at once.
const READINESS_SCRIPT = [
  'status=$1 timeout=$2; shift 2',
  'for port; do echo "waiting for TCP connection to 127.0.0.1:$port..."; done',
  'end=$((SECONDS + timeout))',
  'while :; do',
  '  for port; do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && exit 0; done',
  `  if [ -e "$status" ]; then cat "$status"; exit ${READINESS_EXIT.exited}; fi`,
  `  [ "$SECONDS" -ge "$end" ] && exit ${READINESS_EXIT.timedOut}`,
  '  sleep 0.25',
  'done',
].join('\n');

/** Waits up to `timeoutSeconds` for any of `ports` of service `index` to accept a connection. */
export function readinessCommand(index: number, ports: readonly number[], timeoutSeconds: number): string[] {
  return ['bash', '-c', READINESS_SCRIPT, 'tart-readiness', serviceGuestPaths(index).exitStatus, String(timeoutSeconds), ...ports.map(String)];
}

/**
 * The last 64 KiB of service `index`'s output, each line after its time, as gitlab-runner's
 * warning shows `docker logs --timestamps` capped at 64 KiB.
 */
export function serviceLogTailCommand(index: number): string[] {
  return ['tail', '-c', '65536', serviceGuestPaths(index).stampedLog];
}

/** Follows service `index`'s stamped output from its first line (CI_DEBUG_SERVICES): `<time> <line>`. */
export function serviceLogFollowCommand(index: number): string[] {
  return ['tail', '-n', '+1', '-F', serviceGuestPaths(index).stampedLog];
}

/** A line of the stamped log as its time and its text. */
export function splitStampedLine(line: string): { timestamp: string; text: string } {
  const space = line.indexOf(' ');
  return space < 0 ? { timestamp: line, text: '' } : { timestamp: line.slice(0, space), text: line.slice(space + 1) };
}
