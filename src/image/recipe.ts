// What an image is made from (its "recipe") and the version derived from it: the short hash of
// every input that changes the bytes — kernel package version, package list, scripts, format.
// Pure: the same recipe always gives the same version.
import { createHash } from 'node:crypto';
import { IMAGE_FORMAT_VERSION } from './layout.js';
import { renderGuestInit, renderSshdConfig } from './guest-init.js';
import { CONTAINER_MODULE_TREES, GUEST_MODULES } from './modules.js';
import { ROOTFS_DPKG_EXCLUDES, ROOTFS_PACKAGES, ROOTFS_SUITE } from './rootfs.js';
import { HELPER_ROOT_BUSYBOX } from '../vmm/guest-contract.js';
import type { KernelPackage } from './kernel.js';

export interface ImageRecipe {
  formatVersion: number;
  kernelPackage: string;
  kernelPackageVersion: string;
  kernelRelease: string;
  busyboxVersion: string;
  suite: string;
  packages: string[];
  dpkgExcludes: string[];
  modules: string[];
  /** Module trees the helper root carries for containers in the job, loaded on demand. */
  containerModuleTrees: string[];
  /** Where the root carries a copy of the static busybox (busyboxVersion). */
  helperBusybox: string;
  /** Full text of the generated scripts: any edit gives a new version. */
  guestInit: string;
  sshdConfig: string;
  /** The initramfs /init template; rendered with the resolved module list at build time. */
  initramfsInitSource: string;
}

/** Shared by both kernel command lines; quiet keeps the slow emulated serial console short. */
const COMMON_CMDLINE =
  'console=ttyS0 root=/dev/vda ro panic=-1 pci=off quiet loglevel=4 random.trust_cpu=on cryptomgr.notests i8042.noaux i8042.nomux i8042.dumbkbd';

/** Firecracker: reboot=k (i8042 reset) ends the Firecracker process. */
export const FIRECRACKER_KERNEL_CMDLINE = `${COMMON_CMDLINE} reboot=k`;

/**
 * QEMU microvm: reboot=t (triple fault) ends QEMU run with -no-reboot. tsc_early_khz skips the
 * PIT calibration of the TSC, which under TCG on a loaded host fails and then hangs the boot
 * (measured here); the guest TSC runs at the host's rate, so the host's value is the right one.
 */
export function qemuKernelCmdline(hostTscKhz: number | undefined): string {
  const tsc = hostTscKhz && hostTscKhz > 0 ? ` tsc_early_khz=${Math.round(hostTscKhz)}` : '';
  return `${COMMON_CMDLINE} reboot=t${tsc}`;
}

/** The host's TSC rate from /proc/cpuinfo ("cpu MHz", which is the TSC rate on x86 Linux). */
export function parseCpuinfoKhz(cpuinfo: string): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(cpuinfo)?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}

export function imageRecipe(options: {
  kernel: KernelPackage;
  busyboxVersion: string;
  initramfsInitSource: string;
}): ImageRecipe {
  return {
    formatVersion: IMAGE_FORMAT_VERSION,
    kernelPackage: options.kernel.name,
    kernelPackageVersion: options.kernel.version,
    kernelRelease: options.kernel.release,
    busyboxVersion: options.busyboxVersion,
    suite: ROOTFS_SUITE,
    packages: [...ROOTFS_PACKAGES],
    dpkgExcludes: [...ROOTFS_DPKG_EXCLUDES],
    modules: GUEST_MODULES.map((module) => module.name),
    containerModuleTrees: [...CONTAINER_MODULE_TREES],
    helperBusybox: HELPER_ROOT_BUSYBOX,
    guestInit: renderGuestInit(),
    sshdConfig: renderSshdConfig(),
    initramfsInitSource: options.initramfsInitSource,
  };
}

/** 12 hex digits of sha256 over the recipe's canonical JSON (keys sorted). */
export function imageVersion(recipe: ImageRecipe): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex').slice(0, 12);
}

/** The recipe as recorded in manifest.json: scripts by hash, the rest verbatim. */
export function recipeForManifest(recipe: ImageRecipe): Record<string, unknown> {
  const { guestInit, sshdConfig, initramfsInitSource, ...rest } = recipe;
  return {
    ...rest,
    guestInitSha256: sha256(guestInit),
    sshdConfigSha256: sha256(sshdConfig),
    initramfsInitSha256: sha256(initramfsInitSource),
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
