// Phase 6: one merged job mapping → the typed fields of a PlannedJob (scripts, artifacts, cache,
// needs, retry, timeout ...), rejecting values GitLab would reject.
import { parseDuration } from './duration.js';
import { CiConfigError, type SourceLocation } from './errors.js';
import { isPlainMap, type CiValue } from './load.js';
import type { ArtifactsSpec, CacheSpec, ImageSpec, NeedSpec, RetryPolicy, ServiceSpec } from './types.js';

export interface Where {
  location?: SourceLocation;
  job: string;
}

/** `script`-like keys: a string or a list whose nested lists (from !reference) are flattened. */
export function scriptLines(value: CiValue | undefined, key: string, where: Where): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value.flat(10) : [value];
  return list.map((line) => {
    if (typeof line === 'string' || typeof line === 'number' || typeof line === 'boolean')
      return String(line);
    throw new CiConfigError('CI_INVALID_VALUE', `${key} must be a string or a list of strings`, where);
  });
}

/** `needs`, with `parallel:matrix` selectors expanded to job names; other pipelines' jobs listed apart. */
export function parseNeeds(
  value: CiValue | undefined,
  where: Where,
): { needs: NeedSpec[]; external: string[] } | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value.flat(10) : [value];
  const external: string[] = [];
  const needs = list.flatMap((need): NeedSpec[] => {
    if (typeof need === 'string') return [{ job: need, artifacts: true, optional: false }];
    if (isPlainMap(need) && typeof need.job === 'string') {
      if (need.project !== undefined || need.pipeline !== undefined) {
        external.push(
          need.project !== undefined
            ? `job "${need.job}" of project ${String(need.project)}${need.ref !== undefined ? ` (ref ${String(need.ref)})` : ''}`
            : `job "${need.job}" of pipeline ${String(need.pipeline)}`,
        );
        return [];
      }
      const base = { artifacts: need.artifacts !== false, optional: need.optional === true };
      const matrix = isPlainMap(need.parallel) ? need.parallel.matrix : undefined;
      if (matrix === undefined) return [{ job: need.job, ...base }];
      return matrixNames(need.job, matrix, where).map((job) => ({ job, ...base, matrix: true }));
    }
    throw new CiConfigError(
      'CI_INVALID_VALUE',
      'needs entries must be job names or { job, artifacts, optional }',
      where,
    );
  });
  return { needs, external };
}

// The names GitLab gives the matrix jobs a `needs:parallel:matrix` selector names.
function matrixNames(job: string, matrix: CiValue, where: Where): string[] {
  if (!Array.isArray(matrix))
    throw new CiConfigError(
      'CI_INVALID_VALUE',
      'needs:parallel:matrix must be a list of variable mappings',
      where,
    );
  return matrix.flatMap((entry) => {
    if (!isPlainMap(entry))
      throw new CiConfigError('CI_INVALID_VALUE', 'needs:parallel:matrix entries must be mappings', where);
    const axes = Object.values(entry).map((value) => (Array.isArray(value) ? value : [value]).map(String));
    const combinations = axes.reduce<string[][]>(
      (products, axis) => products.flatMap((product) => axis.map((item) => [...product, item])),
      [[]],
    );
    return combinations.map((values) => `${job}: [${values.join(', ')}]`);
  });
}

export function parseRetry(value: CiValue | undefined, where: Where): RetryPolicy {
  if (value === undefined || value === null) return { max: 0, when: ['always'] };
  const max = typeof value === 'number' ? value : isPlainMap(value) ? Number(value.max ?? 0) : NaN;
  if (!Number.isInteger(max) || max < 0 || max > 2)
    throw new CiConfigError('CI_INVALID_VALUE', 'retry must be 0, 1 or 2 (or { max, when })', where);
  const when =
    isPlainMap(value) && value.when !== undefined
      ? (Array.isArray(value.when) ? value.when : [value.when]).map(String)
      : ['always'];
  return { max, when };
}

export function parseTimeout(value: CiValue | undefined, where: Where): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new CiConfigError('CI_DURATION_INVALID', 'timeout must be a duration', where);
  return parseDuration(value, where);
}

export function parseImage(value: CiValue | undefined, where: Where): ImageSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { name: value };
  if (isPlainMap(value) && typeof value.name === 'string') {
    const image: ImageSpec = {
      name: value.name,
      ...(Array.isArray(value.entrypoint) ? { entrypoint: value.entrypoint.map(String) } : {}),
    };
    if (typeof value.pull_policy === 'string') image.pullPolicy = [value.pull_policy];
    else if (Array.isArray(value.pull_policy)) image.pullPolicy = value.pull_policy.map(String);
    const docker = dockerOptions(value.docker);
    if (docker) image.docker = docker;
    return image;
  }
  throw new CiConfigError('CI_INVALID_VALUE', 'image must be a name or { name, entrypoint }', where);
}

// `image:docker:` / `services:docker:`: `user` is a name or a number, `platform` a string.
function dockerOptions(value: CiValue | undefined): ImageSpec['docker'] {
  if (!isPlainMap(value)) return undefined;
  const docker: NonNullable<ImageSpec['docker']> = {};
  if (typeof value.user === 'string' || typeof value.user === 'number') docker.user = String(value.user);
  if (typeof value.platform === 'string') docker.platform = value.platform;
  return Object.keys(docker).length > 0 ? docker : undefined;
}

export function parseServices(value: CiValue | undefined, where: Where): ServiceSpec[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((service) => {
    const image = parseImage(service, where) as ServiceSpec;
    if (isPlainMap(service)) {
      if (typeof service.alias === 'string') image.alias = service.alias;
      if (Array.isArray(service.command)) image.command = service.command.map(String);
      if (isPlainMap(service.variables)) {
        image.variables = Object.entries(service.variables).map(([key, value]) => ({ key, value: String(value) }));
      }
    }
    return image;
  });
}

export function parseArtifacts(value: CiValue | undefined, where: Where): ArtifactsSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainMap(value)) throw new CiConfigError('CI_INVALID_VALUE', 'artifacts must be a mapping', where);
  const reports: Record<string, string[]> = {};
  if (isPlainMap(value.reports)) {
    for (const [type, paths] of Object.entries(value.reports)) {
      // coverage_report: { coverage_format: cobertura, path: x } is reported under its format.
      if (type === 'coverage_report' && isPlainMap(paths))
        reports[String(paths.coverage_format)] = stringList(paths.path);
      else reports[type] = stringList(paths);
    }
  }
  return {
    ...(typeof value.name === 'string' ? { name: value.name } : {}),
    paths: stringList(value.paths),
    exclude: stringList(value.exclude),
    ...(typeof value.untracked === 'boolean' ? { untracked: value.untracked } : {}),
    when: whenOf(value.when, ['on_success', 'on_failure', 'always'], 'artifacts:when', where),
    ...(value.expire_in !== undefined && value.expire_in !== null
      ? { expireIn: String(value.expire_in) }
      : {}),
    reports,
  };
}

export function parseCache(value: CiValue | undefined, where: Where): CacheSpec[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((entry) => {
    if (!isPlainMap(entry))
      throw new CiConfigError('CI_INVALID_VALUE', 'cache must be a mapping (or a list of them)', where);
    return {
      key: cacheKey(entry.key, where),
      paths: stringList(entry.paths),
      ...(typeof entry.untracked === 'boolean' ? { untracked: entry.untracked } : {}),
      // A $VARIABLE policy is expanded by the runner, as gitlab-runner does.
      policy: isVariable(entry.policy)
        ? (entry.policy as CacheSpec['policy'])
        : whenOf(entry.policy, ['pull-push', 'pull', 'push'], 'cache:policy', where),
      when: whenOf(entry.when, ['on_success', 'on_failure', 'always'], 'cache:when', where),
      fallbackKeys: stringList(entry.fallback_keys),
    };
  });
}

function cacheKey(value: CiValue | undefined, where: Where): CacheSpec['key'] {
  if (value === undefined || value === null) return 'default';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (isPlainMap(value) && value.files !== undefined) {
    return {
      files: stringList(value.files),
      ...(value.prefix !== undefined ? { prefix: String(value.prefix) } : {}),
    };
  }
  throw new CiConfigError('CI_INVALID_VALUE', 'cache:key must be a string or { files, prefix }', where);
}

function whenOf<T extends string>(value: CiValue | undefined, allowed: T[], key: string, where: Where): T {
  if (value === undefined || value === null) return allowed[0] as T;
  if (allowed.includes(value as T)) return value as T;
  throw new CiConfigError('CI_INVALID_VALUE', `${key} must be one of ${allowed.join(', ')}`, where);
}

function isVariable(value: CiValue | undefined): boolean {
  return typeof value === 'string' && value.includes('$');
}

export function stringList(value: CiValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value.flat(10) : [value]).map(String);
}
