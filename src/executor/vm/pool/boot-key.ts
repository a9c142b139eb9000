// What a VM was booted with, as the key a pool sorts its VMs by: the image's default root, a
// container image by digest (the job's `image:`) and its services' images by digest, in order.
// A job gets a pooled VM only of its own key.
import type { VmRequest } from '../vm-provider.js';

export interface VmBootKey {
  /** The root filesystem: the guest image's own root. */
  root: 'default';
  /** The container image's digest (`sha256:…`); absent for the default root. */
  imageDigest?: string;
  /** The service images' digests in `services:` order; absent for a job without services. */
  serviceDigests?: string[];
}

export const DEFAULT_BOOT_KEY: VmBootKey = { root: 'default' };

/** The key of the VM a request asks for. */
export function bootKeyOf(request: Pick<VmRequest, 'imageDigest' | 'serviceDigests'>): VmBootKey {
  if (!request.imageDigest && !request.serviceDigests?.length) return DEFAULT_BOOT_KEY;
  return {
    root: 'default',
    ...(request.imageDigest ? { imageDigest: request.imageDigest } : {}),
    ...(request.serviceDigests?.length ? { serviceDigests: request.serviceDigests } : {}),
  };
}

/** A stable string for maps and handles: `default`, `default@sha256:…`, then `+services=sha256:…,sha256:…`. */
export function bootKeyString(key: VmBootKey): string {
  const image = key.imageDigest ? `${key.root}@${key.imageDigest}` : key.root;
  return key.serviceDigests?.length ? `${image}+services=${key.serviceDigests.join(',')}` : image;
}
