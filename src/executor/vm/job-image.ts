// Which container image a job gets and fetching it, with the docker executor's trace lines
// (docker executor reference §2.4–2.5): the job's `image:` (variables expanded) or the runner's
// default_image; allowed_images; the effective pull policies; credentials; the pull itself.
import type { ConfigService } from '../../config/types.js';
import type { DockerExecutorOptions, JobPayload } from '../../model/payload.js';
import { expandVariables, getVariable } from '../../model/variables.js';
import { disallowedImageLines, isImageAllowed } from '../../oci/allowed-images.js';
import { effectiveEntrypoint } from '../../oci/image-config.js';
import { effectivePullPolicies, type PullPolicy } from '../../oci/pull-policy.js';
import { findRegistryCredentials } from '../../oci/registry-auth.js';
import { checkRequestedPlatform } from '../../oci/requested-platform.js';
import type { ImageStore, JobImage } from '../../oci/store.js';
import { TartError } from '../../errors.js';
import { jobContainerUser, type UserPolicy } from './container-user.js';
import { imageRootSetupCommand, isPlainVolumePath, type GuestTools, type RootImageConfig } from './image-root.js';
import type { PooledBootSpec } from './pool/pooled-vm-provider.js';

export interface JobImageSettings {
  store: ImageStore;
  defaultImage?: string;
  allowedImages: readonly string[];
  /** allowed_services: globs every service image must match (empty = any). */
  allowedServices?: readonly string[];
  pullPolicy?: readonly PullPolicy[];
  allowedPullPolicies: readonly PullPolicy[];
  /** The runner's `environment` entries (KEY=value), for DOCKER_AUTH_CONFIG. */
  environment: readonly string[];
  /** The runner user's home, for ~/.docker/config.json. */
  home?: string;
  /** wait_for_services_timeout in seconds: 0/unset = 30, negative = no readiness check. */
  waitForServicesTimeout?: number;
  /** services_limit: unset or negative = unlimited. */
  servicesLimit?: number;
  /** [[runners.vm.services]]: services every job gets, before its own. */
  services?: readonly ConfigService[];
  /** `user` and `allowed_users`: who the job image's stages may run as. */
  userPolicy?: UserPolicy;
  /** `volumes`: container paths shared by the job's root and its services'; host binds are skipped. */
  volumes?: readonly string[];
}

/**
 * The runner's `volumes` a job's roots share: its container paths (gitlab-runner's `/path` form),
 * and a warning line for each entry they cannot have (a host bind, or a path not plain).
 */
export function sharedVolumesOf(volumes: readonly string[]): { paths: string[]; warnings: string[] } {
  const paths: string[] = [];
  const warnings: string[] = [];
  for (const volume of volumes) {
    if (volume.includes(':')) warnings.push(`WARNING: volume "${volume}" skipped: a host bind cannot reach the job's microVM`);
    else if (!isPlainVolumePath(volume)) warnings.push(`WARNING: volume "${volume}" skipped: not a plain absolute path`);
    else paths.push(volume);
  }
  return { paths, warnings };
}

export interface PreparedJobImage {
  image: JobImage;
  entrypoint: string[];
  /** What its root's setup takes: the user the stages run as (over the image's USER), its VOLUMEs and the runner's shared volumes. */
  root: RootImageConfig;
}

/** The job's image, pulled as its policies say; undefined when the job runs in Tart's own root. */
export async function prepareJobImage(
  job: JobPayload,
  settings: JobImageSettings,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<PreparedJobImage | undefined> {
  const written = job.image?.name ?? settings.defaultImage;
  if (!written) return undefined;
  const name = expandVariables(written, job.variables);
  log(`Using image ${name} for the job's script stages ...`);
  if (!isImageAllowed(name, settings.allowedImages, settings.defaultImage ? [settings.defaultImage] : [])) {
    for (const line of disallowedImageLines(name, settings.allowedImages)) log(line);
    throw new TartError('IMAGE_NOT_ALLOWED', 'disallowed image');
  }
  const user = jobContainerUser({ policy: settings.userPolicy ?? { allowedUsers: [] }, requested: job.image?.docker, variables: job.variables });
  const image = await pullJobImage({ name, requestedPolicies: job.image?.pull_policy, docker: job.image?.docker, job, settings, log, signal });
  return { image, entrypoint: effectiveEntrypoint(image.config, job.image?.entrypoint), root: jobRootOf(image, user, settings) };
}

// The job image's root: its user and VOLUMEs, and the runner's shared volumes. One function for a
// job and for the warm pool's default-image VMs, whose boot keys must match a job's.
function jobRootOf(image: JobImage, user: string | undefined, settings: JobImageSettings): RootImageConfig {
  return { ...rootConfigOf(image, user), sharedVolumes: sharedVolumesOf(settings.volumes ?? []).paths };
}

/** What the image's root is built with: the user its stages run as (`user` over its USER) and its VOLUMEs. */
export function rootConfigOf(image: JobImage, user: string | undefined): RootImageConfig {
  const { volumes } = image.config;
  const effective = user ?? image.config.user;
  return { ...(effective === undefined ? {} : { user: effective }), ...(volumes ? { volumes } : {}) };
}

/**
 * The runner's default_image for a warm pool (#12): pulled as a job that names no image would pull
 * it (the runner's policies and credentials; no job's), its root set up as such a job's would be, so
 * that job gets the pooled VM (the boot keys match). Undefined when the name needs a job's variables.
 */
export async function prepareDefaultImageBoot(
  settings: JobImageSettings,
  log: (line: string) => void,
  signal: AbortSignal,
  tools: GuestTools = {},
): Promise<PooledBootSpec | undefined> {
  const name = settings.defaultImage;
  if (!name || name.includes('$')) return undefined;
  const user = jobContainerUser({ policy: settings.userPolicy ?? { allowedUsers: [] }, requested: undefined, variables: [] });
  const image = await pullJobImage({ name, requestedPolicies: undefined, job: { variables: [] }, settings, log, signal });
  return {
    request: { imageDigest: image.entry.manifestDigest, imageDisk: image.rootfsPath, bootCommand: imageRootSetupCommand('/builds', jobRootOf(image, user, settings), tools) },
    release: () => image.release(),
  };
}

/** One image for the job (its own or a service's): policies, credentials, the pull, the trace lines. */
export async function pullJobImage(options: {
  name: string;
  requestedPolicies: readonly string[] | undefined;
  /** `image:docker:` / `services:docker:`: its platform is checked before anything is pulled. */
  docker?: DockerExecutorOptions;
  /** Its variables (DOCKER_AUTH_CONFIG, a platform's) and registry credentials. */
  job: Pick<JobPayload, 'variables' | 'credentials'>;
  settings: JobImageSettings;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<JobImage> {
  const { name, settings, log } = options;
  const platform = options.docker?.platform;
  checkRequestedPlatform(platform === undefined ? undefined : expandVariables(platform, options.job.variables), name);
  const policies = effectivePullPolicies(name, options.requestedPolicies, { pullPolicy: settings.pullPolicy, allowedPullPolicies: settings.allowedPullPolicies });
  log(`Using effective pull policy of [${policies.join(' ')}] for container ${name}`);
  const { credentials, warnings } = await findRegistryCredentials(name, {
    dockerAuthConfig: dockerAuthConfig(options.job, settings.environment),
    home: settings.home,
    jobCredentials: options.job.credentials ?? [],
  });
  for (const warning of warnings) log(`WARNING: ${warning}`);
  if (credentials) log(`Authenticating with credentials from ${credentials.source}`);
  const image = await settings.store.acquire({ image: name, policies, credentials, log, signal: options.signal });
  log(`Using docker image ${image.entry.imageId} for ${name} with digest ${image.entry.repoDigest} ...`);
  return image;
}

// A job variable wins over the runner's environment entry.
function dockerAuthConfig(job: Pick<JobPayload, 'variables'>, environment: readonly string[]): string | undefined {
  const fromJob = getVariable(job.variables, 'DOCKER_AUTH_CONFIG');
  if (fromJob !== undefined) return fromJob;
  const entry = [...environment].reverse().find((line) => line.startsWith('DOCKER_AUTH_CONFIG='));
  return entry?.slice('DOCKER_AUTH_CONFIG='.length);
}
