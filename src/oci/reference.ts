// Docker image references, resolved as the Docker daemon resolves them (distribution/reference
// normalize.go; docker executor reference §1.1–1.2): `node:20` is docker.io/library/node:20,
// registry hosts may carry a port, a digest wins over a tag, and no tag means `latest`.
import { UserError } from '../errors.js';

export interface ImageReference {
  /** Canonical registry name: `docker.io`, `localhost:5000`, `registry.example.com`. */
  registry: string;
  /** Repository path inside the registry: `library/node`, `group/app`. */
  repository: string;
  /** Present unless the reference names a digest. */
  tag?: string;
  /** `sha256:<hex>` when the reference pins one. */
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

/** Parses and normalises a reference; a malformed one is a user error (IMAGE_REFERENCE_INVALID). */
export function parseImageReference(text: string): ImageReference {
  const invalid = (why: string) => new UserError('IMAGE_REFERENCE_INVALID', `invalid image reference "${text}": ${why}`);
  if (text === '' || text.trim() !== text) throw invalid('empty or padded with spaces');
  if (/^[a-f0-9]{64}$/.test(text)) throw invalid('a bare 64-hex string is an image ID, not a name');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(`bad digest "${digest}"`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(`bad tag "${tag}"`);
  }
  if (rest.length > NAME_TOTAL_LENGTH_MAX) throw invalid(`the name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const { registry, repository } = splitRegistry(rest);
  if (!DOMAIN.test(registry)) throw invalid(`bad registry host "${registry}"`);
  for (const component of repository.split('/')) {
    if (!COMPONENT.test(component)) throw invalid(`bad path component "${component}" (lowercase letters, digits and . _ - only)`);
  }
  if (digest !== undefined) return { registry, repository, digest };
  return { registry, repository, tag: tag ?? 'latest' };
}

// splitDockerDomain: the first component is a host only if it is localhost or has '.', ':' or uppercase.
function splitRegistry(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isHost = slash >= 0 && (first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase());
  if (!isHost) return { registry: DOCKER_HUB, repository: slash < 0 ? `library/${name}` : name };
  const registry = first === 'index.docker.io' ? DOCKER_HUB : first;
  let repository = name.slice(slash + 1);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository };
}

/** `docker.io/library/node:20`, `host:5000/a/b@sha256:…`. */
export function formatReference(reference: ImageReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  return reference.digest ? `${name}@${reference.digest}` : `${name}:${reference.tag ?? 'latest'}`;
}

/** The same repository pinned to a digest. */
export function withDigest(reference: ImageReference, digest: string): ImageReference {
  return { registry: reference.registry, repository: reference.repository, digest };
}

/** The host to dial, without the port, brackets stripped (for the loopback test). */
export function registryHostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon < 0 ? registry : registry.slice(0, colon);
}
