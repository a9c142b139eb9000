// Where VMs come from. A provider acquires a booted, reachable VM and releases (destroys) it; the
// VM executor only turns an acquired VM into a job environment. A fresh-VM-per-job provider is
// fresh-vm-provider.ts; a pool or a snapshot restore is another provider beside it.
import type { GuestChannel } from '../../guest/channel.js';
import type { BootCommandResult } from '../../vmm/guest-contract.js';
import type { GuestTools } from './image-root.js';
import type { VmHandle } from './vm-handle.js';

export interface VmRequest {
  /** Names the VM (its id becomes `<name>-<random>`), e.g. `job1234`. */
  name: string;
  /** Progress lines for the job trace. */
  log: (line: string) => void;
  /**
   * The container image the VM boots from, by digest (absent: the image's default root). VMs are
   * pooled by what they were booted with, so a pool hands out only VMs of the same digest.
   */
  imageDigest?: string;
  /** The container image's read-only disk (src/oci), attached as /dev/vdd; set with imageDigest. */
  imageDisk?: string;
  /** The job's service images by digest, in `services:` order (part of what the VM is booted with). */
  serviceDigests?: string[];
  /** Their read-only disks, attached after the image disk (guest contract: serviceDiskDevices). */
  serviceDisks?: string[];
  /**
   * Run by the guest's init during boot, before the VM counts as ready (the guest contract's
   * boot_command: the job image's root); its result comes back as AcquiredVm.bootCommandResult.
   */
  bootCommand?: readonly string[];
  /** Called once the VMM process runs, with its pid (a pool lowers a pooled boot's CPU priority). */
  onSpawned?: (vmmPid: number) => void;
}

export interface AcquiredVm {
  /** The VM as data: written to its runtime dir, enough for another process to attach or reap. */
  readonly handle: VmHandle;
  readonly channel: GuestChannel;
  /**
   * What the request's bootCommand did, when the guest reported it on the console (absent when
   * the request had none, or the guest image's init predates boot commands: run it over the channel).
   */
  readonly bootCommandResult?: BootCommandResult;
}

export interface VmProvider {
  /** The executor name shown in the trace: "qemu", "firecracker". */
  readonly name: string;
  /** A booted VM whose guest channel answers. On failure every step taken so far is undone. */
  acquire(request: VmRequest, signal: AbortSignal): Promise<AcquiredVm>;
  /**
   * What the guest image its VMs boot offers a boot command (its manifest's helperBusybox); absent
   * or empty: only the helper root's usual programs.
   */
  guestTools?(): Promise<GuestTools>;
  /** Re-attaches to a VM acquired by another process, from its handle. */
  attach(handle: VmHandle, signal?: AbortSignal): Promise<AcquiredVm>;
  /** Destroys the VM and every file of it. Idempotent; never throws. */
  release(vm: AcquiredVm): Promise<void>;
  /** Starts background work (a pool boots its idle VMs). */
  start?(): void;
  /** Stops background work and destroys every VM not handed out. Idempotent; never throws. */
  dispose?(): Promise<void>;
}
