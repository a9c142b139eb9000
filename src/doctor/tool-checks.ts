// Executables and devices: Firecracker, the jailer, QEMU, nft and /dev/net/tun.
import type { CheckResult, DoctorHost } from './types.js';

/** A binary found (with its version) or not; `required` turns absence into a failure. */
export async function checkBinary(
  host: DoctorHost,
  input: { name: string; binary: string; required: boolean; fix: string; args?: string[] },
): Promise<CheckResult> {
  const version = await host.version(input.binary, input.args);
  if (version !== undefined) return { name: input.name, verdict: 'ok', fact: `${input.binary}: ${version}` };
  return {
    name: input.name,
    verdict: input.required ? 'fail' : 'warn',
    fact: `${input.binary} is absent (or does not run)${input.required ? '' : '; not needed by the configured executors'}`,
    fix: input.fix,
  };
}

export async function checkTun(host: DoctorHost, required: boolean): Promise<CheckResult> {
  if (await host.readWritable('/dev/net/tun'))
    return { name: 'tun', verdict: 'ok', fact: '/dev/net/tun is usable' };
  return {
    name: 'tun',
    verdict: required ? 'fail' : 'warn',
    fact: '/dev/net/tun is missing or not accessible; TAP networking is unavailable',
    fix: 'modprobe tun (and run as root)',
  };
}
