// The host names a service answers to, derived as gitlab-runner derives them
// (helpers/container/services/services.go SplitNameAndVersion; docker executor reference §5.2):
// the image name without tag/digest and without the registry port, `/` → `__`, then `/` → `-`;
// the user's `alias` entries (commas and/or spaces) are appended. Pure, no I/O.

// distribution/reference v0.6.0 ReferenceRegexp: name, then optional :tag and @digest, anchored.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
// gitlab-runner's referenceRegexpNoPort: host, optional :port (dropped), path.
const NO_PORT = /^(.*?)(|:[0-9]+)(|\/.*)$/;

/**
 * gitlab-runner's SplitNameAndVersion: the name without tag, digest and registry port, and the
 * tag (`latest` when absent) or `@sha256:…`; undefined when the name is not a valid reference.
 */
export function serviceNameAndVersion(imageName: string): { service: string; version: string } | undefined {
  const match = REFERENCE.exec(imageName);
  if (!match) return undefined;
  const parts = NO_PORT.exec(match[1]!) ?? ['', match[1]!, '', ''];
  const version = match[3] ? `@${match[3]}` : (match[2] ?? 'latest');
  return { service: `${parts[1]}${parts[3]}`, version };
}

/** The derived aliases of a service image name (none when the name is not a valid reference). */
export function derivedServiceAliases(imageName: string): string[] {
  const service = serviceNameAndVersion(imageName)?.service;
  if (service === undefined) return [];
  const primary = service.replaceAll('/', '__');
  const secondary = service.replaceAll('/', '-');
  return primary === secondary ? [primary] : [primary, secondary];
}

/** `alias` as GitLab sends it: several names separated by commas and/or whitespace. */
export function explicitServiceAliases(alias: string | undefined): string[] {
  return (alias ?? '').replaceAll(',', ' ').split(/\s+/).filter((name) => name !== '');
}

export interface NamedService {
  /** The image name, variables already expanded. */
  name: string;
  alias?: string;
}

/**
 * The aliases of every service in order, each alias given to the first service that claims it;
 * a later claim is skipped with gitlab-runner's warning line.
 */
export function assignServiceAliases(services: readonly NamedService[]): { aliases: string[][]; warnings: string[] } {
  const taken = new Set<string>();
  const warnings: string[] = [];
  const aliases = services.map((service, index) => {
    const own: string[] = [];
    for (const alias of [...derivedServiceAliases(service.name), ...explicitServiceAliases(service.alias)]) {
      if (taken.has(alias)) {
        warnings.push(`Skipping alias "${alias}" for service "${service.name}" (services[${index}]): alias is already in use by another service.`);
        continue;
      }
      taken.add(alias);
      own.push(alias);
    }
    return own;
  });
  return { aliases, warnings };
}
