// The 201 body of /jobs/request → JobPayload (protocol reference §3). Tolerant like Go's decoder:
// unknown keys are ignored and `null` means absent; strict only where a runner cannot go on.
import type {
  GitInfo,
  DockerExecutorOptions,
  JobArtifact,
  JobCache,
  JobCredential,
  JobDependency,
  JobFeatures,
  JobHook,
  JobImage,
  JobInfo,
  JobPayload,
  JobService,
  JobStep,
  JobVariable,
  RunnerInfo,
} from '../model/payload.js';
import { DEFAULT_JOB_TIMEOUT_SECONDS } from '../model/defaults.js';

export type ParsePayloadResult =
  | { ok: true; job: JobPayload }
  /** `id`/`token` are set when usable, so the daemon can fail the job with `reason`. */
  | { ok: false; reason: string; id?: number; token?: string };

type Json = Record<string, unknown>;

class PayloadError extends Error {}

export function parseJobPayload(raw: unknown): ParsePayloadResult {
  const root = isObject(raw) ? raw : undefined;
  const id = root && isId(root.id) ? root.id : undefined;
  const token = root && typeof root.token === 'string' && root.token !== '' ? root.token : undefined;
  try {
    if (!root) fail('the job payload is not a JSON object');
    if (id === undefined) fail('id: expected a positive integer');
    if (token === undefined) fail('token: expected a non-empty string');
    return { ok: true, job: readJob(root, id, token) };
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    return { ok: false, reason: error.message, ...(id !== undefined ? { id } : {}), ...(token !== undefined ? { token } : {}) };
  }
}

// Each section in the order of §3.1.
function readJob(root: Json, id: number, token: string): JobPayload {
  if (present(root.run) && !present(root.steps)) fail('run: CI Steps (`run:`) jobs are not supported by this runner');
  const image = optionalObject(root, 'image');
  const imageName = image ? optionalString(image, 'name', 'image.name') : undefined;
  const allowGitFetch = optionalBoolean(root, 'allow_git_fetch', 'allow_git_fetch');
  return {
    id,
    token,
    ...(allowGitFetch !== undefined ? { allow_git_fetch: allowGitFetch } : {}),
    job_info: readJobInfo(optionalObject(root, 'job_info') ?? {}, id),
    git_info: readGitInfo(requiredObject(root, 'git_info', 'git_info')),
    runner_info: readRunnerInfo(optionalObject(root, 'runner_info') ?? {}),
    variables: list(root, 'variables', readVariable),
    steps: requiredList(root, 'steps', readStep),
    hooks: list(root, 'hooks', readHook),
    ...(imageName && image ? { image: readImage(image, imageName) } : {}),
    services: list(root, 'services', readService),
    artifacts: list(root, 'artifacts', readArtifact),
    cache: list(root, 'cache', readCache),
    dependencies: list(root, 'dependencies', (entry, path) => readDependency(entry, path, token)),
    credentials: list(root, 'credentials', readCredential),
    features: readFeatures(optionalObject(root, 'features') ?? {}),
  };
}

function readCredential(entry: Json, path: string): JobCredential {
  return {
    type: requiredString(entry, 'type', `${path}.type`),
    url: requiredString(entry, 'url', `${path}.url`),
    username: optionalString(entry, 'username', `${path}.username`) ?? '',
    password: optionalString(entry, 'password', `${path}.password`) ?? '',
  };
}

// name, and the entrypoint / pull_policy the docker-style executors use (RP §3.8).
function readImage(image: Json, name: string): JobImage {
  const result: JobImage = { name };
  if (present(image.entrypoint)) result.entrypoint = stringList(image, 'entrypoint', 'image.entrypoint');
  if (present(image.pull_policy)) result.pull_policy = stringList(image, 'pull_policy', 'image.pull_policy');
  const docker = readDockerOptions(image, 'image');
  if (docker) result.docker = docker;
  return result;
}

// executor_opts.docker: `user` is a string or an integer (gitlab-runner's StringOrInt64), `platform` a string.
function readDockerOptions(entry: Json, path: string): DockerExecutorOptions | undefined {
  const options = optionalObject(entry, 'executor_opts', `${path}.executor_opts`);
  const docker = options ? optionalObject(options, 'docker', `${path}.executor_opts.docker`) : undefined;
  if (!docker) return undefined;
  const result: DockerExecutorOptions = {};
  const user = docker.user;
  if (typeof user === 'number' && Number.isSafeInteger(user)) result.user = String(user);
  else if (present(user)) result.user = optionalString(docker, 'user', `${path}.executor_opts.docker.user`)!;
  const platform = optionalString(docker, 'platform', `${path}.executor_opts.docker.platform`);
  if (platform !== undefined) result.platform = platform;
  return result;
}

// A service entry; `ports` is the kubernetes executor's, `executor_opts.docker` docker's user/platform.
function readService(entry: Json, path: string): JobService {
  const alias = optionalString(entry, 'alias', `${path}.alias`);
  const service: JobService = {
    name: requiredString(entry, 'name', `${path}.name`),
    ...(alias ? { alias } : {}),
    variables: present(entry.variables) ? list(entry, 'variables', readVariable, `${path}.variables`) : [],
  };
  if (present(entry.entrypoint)) service.entrypoint = stringList(entry, 'entrypoint', `${path}.entrypoint`);
  if (present(entry.command)) service.command = stringList(entry, 'command', `${path}.command`);
  if (present(entry.pull_policy)) service.pull_policy = stringList(entry, 'pull_policy', `${path}.pull_policy`);
  const docker = readDockerOptions(entry, path);
  if (docker) service.docker = docker;
  return service;
}

function readJobInfo(info: Json, jobId: number): JobInfo {
  const projectFullPath = optionalString(info, 'project_full_path', 'job_info.project_full_path');
  const pipelineId = optionalInteger(info, 'pipeline_id', 'job_info.pipeline_id');
  return {
    id: optionalInteger(info, 'id', 'job_info.id') ?? jobId,
    name: optionalString(info, 'name', 'job_info.name') ?? '',
    stage: optionalString(info, 'stage', 'job_info.stage') ?? '',
    project_id: optionalInteger(info, 'project_id', 'job_info.project_id') ?? 0,
    project_name: optionalString(info, 'project_name', 'job_info.project_name') ?? '',
    ...(projectFullPath !== undefined ? { project_full_path: projectFullPath } : {}),
    ...(pipelineId !== undefined ? { pipeline_id: pipelineId } : {}),
  };
}

function readGitInfo(git: Json): GitInfo {
  const objectFormat = optionalString(git, 'repo_object_format', 'git_info.repo_object_format');
  const isProtected = optionalBoolean(git, 'protected', 'git_info.protected');
  return {
    repo_url: requiredString(git, 'repo_url', 'git_info.repo_url'),
    ref: optionalString(git, 'ref', 'git_info.ref') ?? '',
    sha: requiredString(git, 'sha', 'git_info.sha'),
    before_sha: optionalString(git, 'before_sha', 'git_info.before_sha') ?? '',
    ref_type: optionalString(git, 'ref_type', 'git_info.ref_type') ?? '',
    refspecs: stringList(git, 'refspecs', 'git_info.refspecs'),
    depth: optionalInteger(git, 'depth', 'git_info.depth') ?? 0,
    ...(objectFormat ? { repo_object_format: objectFormat } : {}),
    ...(isProtected !== undefined ? { protected: isProtected } : {}),
  };
}

function readRunnerInfo(info: Json): RunnerInfo {
  const timeout = optionalInteger(info, 'timeout', 'runner_info.timeout') ?? 0;
  const sessionUrl = optionalString(info, 'runner_session_url', 'runner_info.runner_session_url');
  return { timeout: timeout > 0 ? timeout : DEFAULT_JOB_TIMEOUT_SECONDS, ...(sessionUrl ? { runner_session_url: sessionUrl } : {}) };
}

function readVariable(entry: Json, path: string): JobVariable {
  const variable: JobVariable = { key: requiredString(entry, 'key', `${path}.key`), value: optionalString(entry, 'value', `${path}.value`) ?? '' };
  for (const flag of ['public', 'masked', 'file', 'raw'] as const) {
    const value = optionalBoolean(entry, flag, `${path}.${flag}`);
    if (value !== undefined) variable[flag] = value;
  }
  return variable;
}

function readStep(entry: Json, path: string): JobStep {
  const timeout = optionalInteger(entry, 'timeout', `${path}.timeout`);
  const when = optionalString(entry, 'when', `${path}.when`);
  const allowFailure = optionalBoolean(entry, 'allow_failure', `${path}.allow_failure`);
  return {
    name: requiredString(entry, 'name', `${path}.name`),
    script: stringList(entry, 'script', `${path}.script`),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(when !== undefined ? { when } : {}),
    ...(allowFailure !== undefined ? { allow_failure: allowFailure } : {}),
  };
}

function readHook(entry: Json, path: string): JobHook {
  return { name: requiredString(entry, 'name', `${path}.name`), script: stringList(entry, 'script', `${path}.script`) };
}

function readArtifact(entry: Json, path: string): JobArtifact {
  const name = optionalString(entry, 'name', `${path}.name`);
  const untracked = optionalBoolean(entry, 'untracked', `${path}.untracked`);
  const exclude = stringList(entry, 'exclude', `${path}.exclude`);
  const expireIn = optionalString(entry, 'expire_in', `${path}.expire_in`);
  return {
    ...(name !== undefined ? { name } : {}),
    ...(untracked !== undefined ? { untracked } : {}),
    paths: stringList(entry, 'paths', `${path}.paths`),
    ...(exclude.length > 0 ? { exclude } : {}),
    when: oneOf(optionalString(entry, 'when', `${path}.when`) ?? '', ['on_success', 'on_failure', 'always', ''], `${path}.when`),
    ...(expireIn ? { expire_in: expireIn } : {}),
    artifact_type: optionalString(entry, 'artifact_type', `${path}.artifact_type`) || 'archive',
    artifact_format: optionalString(entry, 'artifact_format', `${path}.artifact_format`) || 'zip',
  };
}

function readCache(entry: Json, path: string): JobCache {
  const untracked = optionalBoolean(entry, 'untracked', `${path}.untracked`);
  return {
    key: optionalString(entry, 'key', `${path}.key`) ?? '',
    ...(untracked !== undefined ? { untracked } : {}),
    paths: stringList(entry, 'paths', `${path}.paths`),
    policy: oneOf(optionalString(entry, 'policy', `${path}.policy`) ?? '', ['pull-push', 'pull', 'push', ''], `${path}.policy`),
    when: oneOf(optionalString(entry, 'when', `${path}.when`) ?? '', ['on_success', 'on_failure', 'always', ''], `${path}.when`),
    fallback_keys: stringList(entry, 'fallback_keys', `${path}.fallback_keys`),
  };
}

// Newer GitLab sends the running job's token; when it is missing that is also the right default.
function readDependency(entry: Json, path: string, jobToken: string): JobDependency {
  const file = optionalObject(entry, 'artifacts_file', `${path}.artifacts_file`);
  const filename = file ? optionalString(file, 'filename', `${path}.artifacts_file.filename`) : undefined;
  return {
    id: requiredId(entry, 'id', `${path}.id`),
    name: optionalString(entry, 'name', `${path}.name`) ?? '',
    token: optionalString(entry, 'token', `${path}.token`) || jobToken,
    ...(file && filename ? { artifacts_file: { filename, size: optionalInteger(file, 'size', `${path}.artifacts_file.size`) ?? 0 } } : {}),
  };
}

function readFeatures(features: Json): JobFeatures {
  const traceSections = optionalBoolean(features, 'trace_sections', 'features.trace_sections');
  const failureReasons = present(features.failure_reasons) ? stringList(features, 'failure_reasons', 'features.failure_reasons') : undefined;
  const prefixes = present(features.token_mask_prefixes) ? stringList(features, 'token_mask_prefixes', 'features.token_mask_prefixes') : undefined;
  return {
    ...(traceSections !== undefined ? { trace_sections: traceSections } : {}),
    ...(failureReasons ? { failure_reasons: failureReasons } : {}),
    ...(prefixes ? { token_mask_prefixes: prefixes } : {}),
  };
}

// ---- field readers: `null` and absent are the same; a present value of the wrong type fails with its path.

function fail(reason: string): never {
  throw new PayloadError(reason);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

function optionalObject(parent: Json, key: string, path = key): Json | undefined {
  const value = parent[key];
  if (!present(value)) return undefined;
  if (!isObject(value)) fail(`${path}: expected an object, got ${describe(value)}`);
  return value;
}

function requiredObject(parent: Json, key: string, path: string): Json {
  return optionalObject(parent, key, path) ?? fail(`${path}: missing`);
}

function optionalString(parent: Json, key: string, path: string): string | undefined {
  const value = parent[key];
  if (!present(value)) return undefined;
  if (typeof value !== 'string') fail(`${path}: expected a string, got ${describe(value)}`);
  return value;
}

function requiredString(parent: Json, key: string, path: string): string {
  const value = optionalString(parent, key, path);
  if (value === undefined || value === '') fail(`${path}: missing`);
  return value;
}

function optionalInteger(parent: Json, key: string, path: string): number | undefined {
  const value = parent[key];
  if (!present(value)) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(`${path}: expected an integer, got ${describe(value)}`);
  return value;
}

function requiredId(parent: Json, key: string, path: string): number {
  const value = parent[key];
  if (!isId(value)) fail(`${path}: expected a positive integer`);
  return value;
}

function optionalBoolean(parent: Json, key: string, path: string): boolean | undefined {
  const value = parent[key];
  if (!present(value)) return undefined;
  if (typeof value !== 'boolean') fail(`${path}: expected a boolean, got ${describe(value)}`);
  return value;
}

function stringList(parent: Json, key: string, path: string): string[] {
  const value = parent[key];
  if (!present(value)) return [];
  if (!Array.isArray(value)) fail(`${path}: expected an array, got ${describe(value)}`);
  return value.map((item, index) => {
    if (typeof item !== 'string') fail(`${path}[${index}]: expected a string, got ${describe(item)}`);
    return item;
  });
}

function list<T>(parent: Json, key: string, read: (entry: Json, path: string) => T, path = key): T[] {
  const value = parent[key];
  if (!present(value)) return [];
  if (!Array.isArray(value)) fail(`${path}: expected an array, got ${describe(value)}`);
  return value.map((entry, index) => {
    if (!isObject(entry)) fail(`${path}[${index}]: expected an object, got ${describe(entry)}`);
    return read(entry, `${path}[${index}]`);
  });
}

function requiredList<T>(parent: Json, key: string, read: (entry: Json, path: string) => T): T[] {
  if (!present(parent[key])) fail(`${key}: missing`);
  return list(parent, key, read);
}

function oneOf<const T extends string>(value: string, allowed: readonly T[], path: string): T {
  if (!(allowed as readonly string[]).includes(value)) fail(`${path}: unknown value "${value}"`);
  return value as T;
}
