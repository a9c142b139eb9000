// The host side of a job's `services:` (#11): each service's image is pulled into the store with
// the job's own image, before the VM is acquired (registry credentials stay on the host), and its
// aliases are assigned as gitlab-runner assigns them (docker executor reference §5.1–5.2);
// allowed_services is checked as gitlab-runner checks it. The runner's [[runners.vm.services]]
// come first, then the job's, as gitlab-runner's getServicesDefinitions orders them.
import type { ConfigService } from '../../config/types.js';
import type { JobPayload, JobService } from '../../model/payload.js';
import { expandVariables } from '../../model/variables.js';
import { TartError } from '../../errors.js';
import { disallowedImageLines, isImageAllowed } from '../../oci/allowed-images.js';
import { ImagePullError } from '../../oci/pull-errors.js';
import { assignServiceAliases, serviceNameAndVersion } from '../../oci/service-aliases.js';
import type { JobImage } from '../../oci/store.js';
import { serviceContainerUser } from './container-user.js';
import type { RootImageConfig } from './image-root.js';
import { pullJobImage, rootConfigOf, type JobImageSettings } from './job-image.js';
import { startingServiceLine } from './service-messages.js';

export interface PreparedService {
  /** `services[index]`, its name with the job's variables expanded. */
  definition: JobService;
  name: string;
  index: number;
  /** Host names it answers to: derived ones, then the user's (each alias to its first claimant). */
  aliases: string[];
  /** gitlab-runner's `<prefix>-<service, / → __>-<index>`, named in the readiness warning. */
  containerName: string;
  image: JobImage;
  /** What its root's setup takes: its user (`services:docker:user`, else its image's USER) and its VOLUMEs. */
  root: RootImageConfig;
}

/** Every service of the job, pulled; on failure the images already held are let go. */
export async function prepareJobServices(
  job: JobPayload,
  settings: JobImageSettings,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<PreparedService[]> {
  const configured = (settings.services ?? []).map(configServiceDefinition);
  const definitions = [...configured, ...(job.services ?? [])].map((definition) => ({
    definition,
    name: expandVariables(definition.name, job.variables),
    alias: definition.alias === undefined ? undefined : expandVariables(definition.alias, job.variables),
  }));
  const { aliases, warnings } = assignServiceAliases(definitions);
  for (const warning of warnings) log(`WARNING: ${warning}`);
  // Every service is checked before any is pulled, as gitlab-runner's getServicesDefinitions does:
  // each job service against allowed_services (the runner's own services are always allowed, and
  // so is a job service of the same name), then the count against services_limit.
  const allowed = settings.allowedServices ?? [];
  const internal = definitions.slice(0, configured.length).map(({ name }) => name);
  for (const { name } of definitions.slice(configured.length)) {
    if (internal.includes(name) || isImageAllowed(name, allowed)) continue;
    for (const line of disallowedImageLines(name, allowed, 'services')) log(line);
    throw new TartError('SERVICE_NOT_ALLOWED', 'disallowed image');
  }
  checkServicesLimit(definitions.length, settings.servicesLimit);
  const prepared: PreparedService[] = [];
  try {
    for (const [index, { definition, name }] of definitions.entries()) {
      const split = serviceNameAndVersion(name);
      if (!split) throw new ImagePullError('SERVICE_NAME_INVALID', `invalid service image name: ${name}`, 'runner_configuration_error');
      log(startingServiceLine(split.service, split.version));
      const image = await pullJobImage({ name, requestedPolicies: definition.pull_policy, docker: definition.docker, job, settings, log, signal });
      const containerName = `job${job.id}-${split.service.replaceAll('/', '__')}-${index}`;
      const root = rootConfigOf(image, serviceContainerUser(definition.docker, job.variables));
      prepared.push({ definition, name, index, aliases: aliases[index] ?? [], containerName, image, root });
    }
    return prepared;
  } catch (error) {
    for (const service of prepared) service.image.release();
    throw error;
  }
}

/**
 * A [[runners.vm.services]] entry as a payload service: gitlab-runner's Service.ToImageDefinition,
 * its `environment` entries becoming the service's own variables.
 */
export function configServiceDefinition(service: ConfigService): JobService {
  const variables = service.environment.map((entry) => {
    const equals = entry.indexOf('=');
    return { key: entry.slice(0, equals), value: entry.slice(equals + 1) };
  });
  return {
    name: service.name,
    ...(service.alias === undefined ? {} : { alias: service.alias }),
    ...(service.entrypoint === undefined ? {} : { entrypoint: service.entrypoint }),
    ...(service.command === undefined ? {} : { command: service.command }),
    variables,
  };
}

/** services_limit: gitlab-runner's tooManyServicesRequestedError. */
export function checkServicesLimit(requested: number, limit: number | undefined): void {
  if (limit === undefined || limit < 0 || requested <= limit) return;
  throw new TartError('SERVICES_LIMIT_EXCEEDED', `too many services requested: ${requested}, only ${limit} allowed`);
}
