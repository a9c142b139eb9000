// A docker runner moved to a VM executor keeps choosing its job image the docker way:
// `[runners.docker]` image, allowed_images, allowed_services, pull_policy, allowed_pull_policies,
// wait_for_services_timeout, services_limit, user, allowed_users, volumes and the `[[runners.docker.services]]` tables feed the `[runners.vm]`
// keys of the same names (default_image for image) when those are not set.
// Fed keys are not "ignored" any more; a bad value in them is an error like any other.
import { anyInteger, list, oneOf, string, stringOrList, type Decoder } from './decoders.js';
import { isTable, tableArray, type FieldContext } from './fields.js';
import { configServiceShape } from './services.js';
import type { PullPolicyName, RunnerConfig } from './types.js';

const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;

interface Feed<T> {
  docker: string;
  vm: string;
  decoder: Decoder<T>;
  set: (runner: RunnerConfig, value: T) => void;
}

// [[runners.docker.services]] decodes as [[runners.vm.services]] does, so an error names the key inside it.
const SERVICES_FEED = { docker: 'services', vm: 'services', field: tableArray('services', configServiceShape) };

const FEEDS: Feed<never>[] = [
  {
    docker: 'image',
    vm: 'default_image',
    decoder: string({ nonEmpty: true }),
    set: (r: RunnerConfig, v: string) => (r.vm.defaultImage = v),
  },
  {
    docker: 'allowed_images',
    vm: 'allowed_images',
    decoder: list(string({ nonEmpty: true })),
    set: (r: RunnerConfig, v: string[]) => (r.vm.allowedImages = v),
  },
  {
    docker: 'allowed_services',
    vm: 'allowed_services',
    decoder: list(string({ nonEmpty: true })),
    set: (r: RunnerConfig, v: string[]) => (r.vm.allowedServices = v),
  },
  {
    docker: 'pull_policy',
    vm: 'pull_policy',
    decoder: stringOrList(oneOf(PULL_POLICIES)),
    set: (r: RunnerConfig, v: PullPolicyName[]) => (r.vm.pullPolicy = v),
  },
  {
    docker: 'allowed_pull_policies',
    vm: 'allowed_pull_policies',
    decoder: stringOrList(oneOf(PULL_POLICIES)),
    set: (r: RunnerConfig, v: PullPolicyName[]) => (r.vm.allowedPullPolicies = v),
  },
  {
    docker: 'wait_for_services_timeout',
    vm: 'wait_for_services_timeout',
    decoder: anyInteger,
    set: (r: RunnerConfig, v: number) => (r.vm.waitForServicesTimeout = v),
  },
  {
    docker: 'services_limit',
    vm: 'services_limit',
    decoder: anyInteger,
    set: (r: RunnerConfig, v: number) => (r.vm.servicesLimit = v),
  },
  {
    docker: 'user',
    vm: 'user',
    decoder: string({ nonEmpty: true }),
    set: (r: RunnerConfig, v: string) => (r.vm.user = v),
  },
  {
    docker: 'volumes',
    vm: 'volumes',
    decoder: list(string({ nonEmpty: true })),
    set: (r: RunnerConfig, v: string[]) => (r.vm.volumes = v),
  },
  {
    docker: 'allowed_users',
    vm: 'allowed_users',
    decoder: list(string({ nonEmpty: true })),
    set: (r: RunnerConfig, v: string[]) => (r.vm.allowedUsers = v),
  },
] as unknown as Feed<never>[];

/** Applies the docker image keys of one decoded runner entry (`raw` is its TOML table). */
export function feedVmFromDocker(
  runner: RunnerConfig,
  raw: Record<string, unknown>,
  path: string,
  context: FieldContext,
): void {
  if (runner.executor === 'shell' || !isTable(raw.docker)) return;
  const docker = raw.docker;
  const vm = isTable(raw.vm) ? raw.vm : {};
  const fed = (feed: { docker: string; vm: string }): { value: unknown; keyPath: string } | undefined => {
    const value = docker[feed.docker];
    if (value === undefined || value === '' || vm[feed.vm] !== undefined) return undefined;
    const keyPath = `${path}.docker.${feed.docker}`;
    context.ignored = context.ignored?.filter((entry) => entry.path !== keyPath);
    return { value, keyPath };
  };
  const services = fed(SERVICES_FEED);
  if (services) {
    // The foreign-key check of [runners.docker] has already named unknown keys in these tables.
    const own: FieldContext = { ...context, issues: [] };
    runner.vm.services = SERVICES_FEED.field.decode(services.value, services.keyPath, own);
    for (const issue of own.issues) {
      if (!context.issues.some((seen) => seen.path === issue.path && seen.code === issue.code)) context.issues.push(issue);
    }
  }
  for (const feed of FEEDS) {
    const found = fed(feed);
    if (!found) continue;
    const { value, keyPath } = found;
    const decoded = feed.decoder(value);
    if (decoded.ok) feed.set(runner, decoded.value as never);
    else
      context.issues.push({
        code: 'CONFIG_INVALID_VALUE',
        path: keyPath,
        message: `expected ${decoded.expected}`,
      });
  }
}
