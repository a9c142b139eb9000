// What `tart doctor` reports: one verdict per check, with the fact behind it and a fix hint.
import type { ImageVerification } from '../image/layout.js';
import type { TartConfig } from '../config/types.js';
import type { CgroupSupport } from '../vmm/cgroup/cgroup-support.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, e.g. "kvm", "firecracker". */
  name: string;
  verdict: Verdict;
  /** One short sentence: what was found. */
  fact: string;
  /** What to do about it (absent when verdict is ok). */
  fix?: string;
}

/** The host as the checks see it; tests feed their own facts. */
export interface DoctorHost {
  env: NodeJS.ProcessEnv;
  exists(path: string): Promise<boolean>;
  /** True when the path can be opened for reading and writing. */
  readWritable(path: string): Promise<boolean>;
  readText(path: string): Promise<string | undefined>;
  /** First line of `<binary> <args>` (default --version), or undefined when it cannot run. */
  version(binary: string, args?: string[]): Promise<string | undefined>;
  /** A short KVM probe boot: "kvm" when a stock kernel really runs under -accel kvm. */
  probeKvm(image: { kernelPath: string; initrdPath: string }): Promise<'kvm' | 'tcg'>;
  verifyImage(dir: string): Promise<ImageVerification>;
  /** Throws the config loader's UserError (CONFIG_NOT_FOUND when absent). */
  loadConfig(path: string): Promise<TartConfig>;
  /** Warm-pool VMs on this host, from their handles (absent: none known). */
  pooledVms?(): Promise<Array<{ vmId: string; state: 'idle' | 'in-use'; ownerAlive: boolean }>>;
  /** Whether cgroup v2 offers per-VM CPU and memory limits (absent: not checked). */
  cgroupSupport?(): Promise<CgroupSupport>;
}

/** What the configured runners need from this host; decides which failures are fatal. */
export interface Requirements {
  qemu: boolean;
  firecracker: boolean;
  jailer: boolean;
  kvm: boolean;
  tap: boolean;
  /** A QEMU runner with network = "user" behind the host guard (nft, root). */
  hostGuard: boolean;
  image: boolean;
}
