// What a VM was booted with, as the key a pool sorts its VMs by: the image's default root, a
// container image by digest (the job's `image:`) with the hash of the boot command that built its
// root (user, volumes), and its services' images by digest, in order. A job gets a pooled VM only
// of its own key.
import { createHash } from 'node:crypto';
import type { VmRequest } from '../vm-provider.js';

export interface VmBootKey {
  /** The root filesystem: the guest image's own root. */
  root: 'default';
  /** The container image's digest (`sha256:…`); absent for the default root. */
  imageDigest?: string;
  /** The service images' digests in `services:` order; absent for a job without services. */
  serviceDigests?: string[];
  /** 12 hex digits of sha256 over the boot command (the image root's setup); absent without one. */
  setup?: string;
}

export const DEFAULT_BOOT_KEY: VmBootKey = { root: 'default' };

/** The key of the VM a request asks for. */
export function bootKeyOf(request: Pick<VmRequest, 'imageDigest' | 'serviceDigests' | 'bootCommand'>): VmBootKey {
  if (!request.imageDigest && !request.serviceDigests?.length) return DEFAULT_BOOT_KEY;
  return {
    root: 'default',
    ...(request.imageDigest ? { imageDigest: request.imageDigest } : {}),
    ...(request.serviceDigests?.length ? { serviceDigests: request.serviceDigests } : {}),
    ...(request.bootCommand?.length ? { setup: createHash('sha256').update(request.bootCommand.join('\0')).digest('hex').slice(0, 12) } : {}),
  };
}

/** A stable string for maps and handles: `default`, `default@sha256:…`, then `+services=sha256:…,sha256:…`, then `#<setup>`. */
export function bootKeyString(key: VmBootKey): string {
  const image = key.imageDigest ? `${key.root}@${key.imageDigest}` : key.root;
  const services = key.serviceDigests?.length ? `${image}+services=${key.serviceDigests.join(',')}` : image;
  return key.setup ? `${services}#${key.setup}` : services;
}
