// The real DoctorHost: the filesystem, `--version` runs, the image verifier, the config loader
// and the lead's KVM probe boot.
import { access, constants, readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { listPooledVms } from '../executor/vm/pool/pooled-vms.js';
import { defaultRuntimeRoot } from '../executor/vm/runtime-dir.js';
import { hostDefaults, type HostFacts } from '../config/paths.js';
import { verifyImage } from '../image/layout.js';
import { runCollect } from '../process/run.js';
import { realCgroupFs } from '../vmm/cgroup/cgroup-fs.js';
import { detectCgroupSupport } from '../vmm/cgroup/cgroup-support.js';
import { probeAccelerator } from '../vmm/qemu/accel-probe.js';
import type { DoctorHost } from './types.js';

export function realDoctorHost(host: HostFacts): DoctorHost {
  return {
    env: host.env,
    exists: (path) =>
      access(path, constants.F_OK).then(
        () => true,
        () => false,
      ),
    readWritable: (path) =>
      access(path, constants.R_OK | constants.W_OK).then(
        () => true,
        () => false,
      ),
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    version: firstLineOf,
    probeKvm: (image) =>
      probeAccelerator({ qemuBinary: host.env.QEMU_BIN || 'qemu-system-x86_64', ...image, timeoutMs: 8000 }),
    verifyImage: (dir) => verifyImage(dir, { checksums: false }),
    loadConfig: (path) => loadConfig(path, hostDefaults(host)),
    pooledVms: () => listPooledVms(defaultRuntimeRoot(host.env)),
    cgroupSupport: () => detectCgroupSupport(realCgroupFs),
  };
}

// Runs `<binary> --version` with a timeout; the first non-empty output line.
function firstLineOf(binary: string, args: string[] = ['--version']): Promise<string | undefined> {
  return runCollect({ command: binary, args, timeoutMs: 5000 }).then(
    ({ exitCode, stdout, stderr }) =>
      exitCode === 0
        ? (stdout.toString() + stderr.toString())
            .split('\n')
            .find((line) => line.trim() !== '')
            ?.trim()
        : undefined,
    () => undefined,
  );
}
