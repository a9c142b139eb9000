// What a VM was booted with, as the key a pool sorts its VMs by: the image's default root, or a
// container image by digest (the job's `image:`). A job gets a pooled VM only of its own key.
import type { VmRequest } from '../vm-provider.js';

export interface VmBootKey {
  /** The root filesystem: the guest image's own root. */
  root: 'default';
  /** The container image's digest (`sha256:…`); absent for the default root. */
  imageDigest?: string;
}

export const DEFAULT_BOOT_KEY: VmBootKey = { root: 'default' };

/** The key of the VM a request asks for. */
export function bootKeyOf(request: Pick<VmRequest, 'imageDigest'>): VmBootKey {
  return request.imageDigest ? { root: 'default', imageDigest: request.imageDigest } : DEFAULT_BOOT_KEY;
}

/** A stable string for maps and handles: `default` or `default@sha256:…`. */
export function bootKeyString(key: VmBootKey): string {
  return key.imageDigest ? `${key.root}@${key.imageDigest}` : key.root;
}
