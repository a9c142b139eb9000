// OCI / Docker v2 manifests and indexes: which kind a raw document is, picking linux/amd64 from an
// index (docker executor reference §1.4), and the layer and config descriptors of a manifest.
import { createHash } from 'node:crypto';
import { ImagePullError } from './pull-errors.js';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

export const HOST_PLATFORM = { os: 'linux', architecture: 'amd64' } as const;

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export type RawDocument = { kind: 'index'; manifests: Descriptor[] } | { kind: 'manifest'; manifest: ImageManifest };

/** Classifies a raw manifest document; schema-1 and unknown types are refused. */
export function parseManifestDocument(raw: Buffer, reference: string): RawDocument {
  let document: { mediaType?: string; schemaVersion?: number; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  try {
    document = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ImagePullError('IMAGE_MANIFEST_INVALID', `the registry's manifest for ${reference} is not JSON`, 'image_pull_failure');
  }
  const type = document.mediaType;
  if ((type !== undefined && INDEX_TYPES.has(type)) || (type === undefined && Array.isArray(document.manifests))) {
    return { kind: 'index', manifests: document.manifests ?? [] };
  }
  if ((type === undefined || MANIFEST_TYPES.has(type)) && document.schemaVersion === 2 && document.config && Array.isArray(document.layers)) {
    return { kind: 'manifest', manifest: { config: document.config, layers: document.layers } };
  }
  throw new ImagePullError('IMAGE_MANIFEST_UNSUPPORTED', `unsupported manifest type ${type ?? `schema ${document.schemaVersion}`} for ${reference}`, 'image_pull_failure');
}

/** The index entry for linux/amd64 (no variant, or v1), else IMAGE_PLATFORM_MISSING. */
export function selectPlatform(manifests: readonly Descriptor[], reference: string): Descriptor {
  const match = manifests.find(
    (entry) =>
      entry.platform?.os === HOST_PLATFORM.os &&
      entry.platform.architecture === HOST_PLATFORM.architecture &&
      (entry.platform.variant === undefined || entry.platform.variant === '' || entry.platform.variant === 'v1'),
  );
  if (match) return match;
  const offered = manifests.map((entry) => `${entry.platform?.os ?? '?'}/${entry.platform?.architecture ?? '?'}`).join(', ');
  throw new ImagePullError(
    'IMAGE_PLATFORM_MISSING',
    `no matching manifest for linux/amd64 in the manifest list entries of ${reference} (offered: ${offered || 'none'})`,
    'image_pull_failure',
  );
}

/** Throws IMAGE_DIGEST_MISMATCH unless `bytes` hash to `expected`. */
export function verifyDigest(bytes: Buffer, expected: string, what: string): void {
  const actual = sha256Digest(bytes);
  if (!expected.startsWith('sha256:')) {
    throw new ImagePullError('IMAGE_DIGEST_UNSUPPORTED', `${what}: only sha256 digests are supported, got ${expected}`, 'image_pull_failure');
  }
  if (actual !== expected) {
    throw new ImagePullError('IMAGE_DIGEST_MISMATCH', `${what}: digest ${actual} does not match the expected ${expected}`, 'image_pull_failure');
  }
}
