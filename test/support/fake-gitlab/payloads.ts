// Builds job payloads the way GitLab renders them (protocol §3), modelled on
// /work/shared/reference/fixtures/job-basic.json, pointing at the fake's own URLs.
import type {
  JobArtifact,
  JobCache,
  JobDependency,
  JobHook,
  JobStep,
  JobVariable,
} from '../../../src/model/payload.js';
import { GITLAB_FAILURE_REASONS } from './failure-reasons.js';

export { GITLAB_FAILURE_REASONS };

/** What the wire payload's `features` may hold (`failure_reasons` absent = only the basic three). */
export interface WireFeatures {
  trace_sections?: boolean;
  failure_reasons?: string[];
  token_mask_prefixes?: string[];
}

/** The JSON GitLab sends: like JobPayload, but with the wire's nulls and extra keys. */
export interface WireJobPayload {
  id: number;
  token: string;
  allow_git_fetch: boolean;
  job_info: Record<string, unknown>;
  git_info: {
    repo_url: string;
    ref: string;
    sha: string;
    before_sha: string;
    ref_type: string;
    refspecs: string[];
    depth: number;
    repo_object_format: string;
    protected: boolean;
  };
  runner_info: { timeout: number; runner_session_url: null };
  variables: JobVariable[];
  steps: JobStep[];
  hooks: JobHook[];
  image: { name: string; entrypoint: string[] | null; ports: []; executor_opts: object; pull_policy: string[] | null } | null;
  services: unknown[];
  artifacts: JobArtifact[] | null;
  cache: JobCache[];
  credentials: { type: string; url: string; username: string; password: string }[];
  dependencies: JobDependency[];
  features: WireFeatures;
}

export interface JobPayloadOptions {
  id: number;
  token: string;
  pipelineId: number;
  /** The GitLab URL the job sees, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  projectPath?: string;
  projectId?: number;
  name?: string;
  stage?: string;
  ref?: string;
  refType?: 'branch' | 'tag';
  sha?: string;
  beforeSha?: string;
  /** 0 = full clone (refspecs then fetch all heads and tags, §3.3). */
  depth?: number;
  /** The `script` step (before_script + script); ignored when `steps` is given. */
  script?: string[];
  afterScript?: string[];
  steps?: JobStep[];
  /** Appended after the predefined ones; the last occurrence wins (§3.5). */
  variables?: JobVariable[];
  timeout?: number;
  artifacts?: JobArtifact[] | null;
  cache?: JobCache[];
  dependencies?: JobDependency[];
  hooks?: JobHook[];
  /** A name, or the `image:` keys GitLab passes on (entrypoint, pull_policy). */
  image?: string | { name: string; entrypoint?: string[]; pull_policy?: string[]; executor_opts?: ExecutorOptions } | null;
  /** `services:` entries: a name (string form) or the keys GitLab passes on. */
  services?: Array<string | JobServiceOptions>;
  features?: WireFeatures;
  allowGitFetch?: boolean;
}

/** `image:docker:` / `services:docker:` as GitLab passes them on (`executor_opts`). */
export interface ExecutorOptions {
  docker?: { user?: string | number; platform?: string };
}

export interface JobServiceOptions {
  name: string;
  executor_opts?: ExecutorOptions;
  alias?: string;
  entrypoint?: string[];
  command?: string[];
  variables?: Record<string, string>;
  pull_policy?: string[];
}

// As Rails' JobRequest::Service entity renders one: absent keys are null; string-form services have no variables.
function serviceEntry(service: string | JobServiceOptions): Record<string, unknown> {
  const entry = typeof service === 'string' ? { name: service } : service;
  return {
    name: entry.name,
    entrypoint: entry.entrypoint ?? null,
    ports: [],
    executor_opts: entry.executor_opts ?? {},
    pull_policy: entry.pull_policy ?? null,
    alias: entry.alias ?? null,
    command: entry.command ?? null,
    variables:
      typeof service === 'string'
        ? null
        : Object.entries(entry.variables ?? {}).map(([key, value]) => ({ key, value })),
  };
}

const FIXTURE_SHA = 'a3f5c1e9b7d2486f0e1c3b5a7d9f2e4c6b8a0d1e';
const ZERO_SHA = '0000000000000000000000000000000000000000';

/** A payload as GitLab would send it for these options. Pure: no I/O. */
export function makeJobPayload(options: JobPayloadOptions): WireJobPayload {
  const projectPath = options.projectPath ?? 'acme/widget';
  const ref = options.ref ?? 'main';
  const refType = options.refType ?? 'branch';
  const depth = options.depth ?? 20;
  const sha = options.sha ?? FIXTURE_SHA;
  const timeout = options.timeout ?? 3600;
  const server = new URL(options.baseUrl);
  const repoUrl = repoUrlWithToken(options.baseUrl, projectPath, options.token);
  return {
    id: options.id,
    token: options.token,
    allow_git_fetch: options.allowGitFetch ?? true,
    job_info: {
      id: options.id,
      name: options.name ?? 'unit-tests',
      stage: options.stage ?? 'test',
      project_id: options.projectId ?? 42,
      project_name: projectPath.split('/').at(-1),
      project_full_path: projectPath,
      pipeline_id: options.pipelineId,
      time_in_queue_seconds: 0.5,
      project_jobs_running_on_instance_runners_count: '+Inf',
    },
    git_info: {
      repo_url: repoUrl,
      ref,
      sha,
      before_sha: options.beforeSha ?? ZERO_SHA,
      ref_type: refType,
      refspecs: refspecsFor({ pipelineId: options.pipelineId, ref, refType, depth }),
      depth,
      repo_object_format: 'sha1',
      protected: false,
    },
    runner_info: { timeout, runner_session_url: null },
    variables: [
      ...predefinedVariables({ ...options, projectPath, ref, sha, depth, server, repoUrl }),
      ...(options.variables ?? []),
    ],
    steps:
      options.steps ??
      stepsFor(options.script ?? ['echo "Hello from the fake GitLab"'], options.afterScript, timeout),
    hooks: options.hooks ?? [],
    image:
      options.image === null
        ? null
        : {
            name: (typeof options.image === 'object' ? options.image.name : options.image) ?? 'debian:bookworm',
            entrypoint: (typeof options.image === 'object' ? options.image.entrypoint : undefined) ?? null,
            ports: [],
            executor_opts: (typeof options.image === 'object' ? options.image.executor_opts : undefined) ?? {},
            pull_policy: (typeof options.image === 'object' ? options.image.pull_policy : undefined) ?? null,
          },
    services: (options.services ?? []).map(serviceEntry),
    artifacts: options.artifacts === undefined ? null : options.artifacts,
    cache: options.cache ?? [],
    credentials: [
      {
        type: 'registry',
        url: `registry.${server.hostname}`,
        username: 'gitlab-ci-token',
        password: options.token,
      },
    ],
    dependencies: options.dependencies ?? [],
    features: options.features ?? { trace_sections: true, failure_reasons: [...GITLAB_FAILURE_REASONS] },
  };
}

/** `http://gitlab-ci-token:<token>@host:port/<path>.git`, like git_info.repo_url (§3.3). */
export function repoUrlWithToken(baseUrl: string, projectPath: string, token: string): string {
  const url = new URL(`${projectPath}.git`, withSlash(baseUrl));
  url.username = 'gitlab-ci-token';
  url.password = token;
  return url.toString();
}

/** The refspecs GitLab's BuildRunnerPresenter sends (execution reference §3.3 d). */
export function refspecsFor(args: {
  pipelineId: number;
  ref: string;
  refType: 'branch' | 'tag';
  depth: number;
}): string[] {
  const persistent = `+refs/pipelines/${args.pipelineId}:refs/pipelines/${args.pipelineId}`;
  if (args.depth === 0)
    return [persistent, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];
  const own =
    args.refType === 'tag'
      ? `+refs/tags/${args.ref}:refs/tags/${args.ref}`
      : `+refs/heads/${args.ref}:refs/remotes/origin/${args.ref}`;
  return [persistent, own];
}

function stepsFor(script: string[], afterScript: string[] | undefined, timeout: number): JobStep[] {
  const steps: JobStep[] = [{ name: 'script', script, timeout, when: 'on_success', allow_failure: false }];
  if (afterScript !== undefined)
    steps.push({ name: 'after_script', script: afterScript, timeout, when: 'always', allow_failure: true });
  return steps;
}

function predefinedVariables(
  o: JobPayloadOptions & {
    projectPath: string;
    ref: string;
    sha: string;
    depth: number;
    server: URL;
    repoUrl: string;
  },
): JobVariable[] {
  const base = o.baseUrl.replace(/\/+$/, '');
  const [namespace = 'acme'] = o.projectPath.split('/');
  const port = o.server.port !== '' ? o.server.port : o.server.protocol === 'https:' ? '443' : '80';
  const pub = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });
  const secret = (key: string, value: string, masked: boolean): JobVariable => ({
    key,
    value,
    public: false,
    masked,
  });
  return [
    pub('CI_PIPELINE_ID', String(o.pipelineId)),
    pub('CI_JOB_ID', String(o.id)),
    pub('CI_JOB_URL', `${base}/${o.projectPath}/-/jobs/${o.id}`),
    secret('CI_JOB_TOKEN', o.token, true),
    pub('CI_REGISTRY_USER', 'gitlab-ci-token'),
    secret('CI_REGISTRY_PASSWORD', o.token, true),
    secret('CI_REPOSITORY_URL', o.repoUrl, false),
    pub('CI_JOB_NAME', o.name ?? 'unit-tests'),
    pub('CI_JOB_STAGE', o.stage ?? 'test'),
    pub('CI', 'true'),
    pub('GITLAB_CI', 'true'),
    pub('CI_SERVER_URL', base),
    pub('CI_SERVER_HOST', o.server.hostname),
    pub('CI_SERVER_PORT', port),
    pub('CI_SERVER_PROTOCOL', o.server.protocol.replace(':', '')),
    pub('CI_SERVER_NAME', 'GitLab'),
    pub('CI_SERVER_VERSION', '18.2.1'),
    pub('CI_API_V4_URL', `${base}/api/v4`),
    pub('CI_PROJECT_ID', String(o.projectId ?? 42)),
    pub('CI_PROJECT_NAME', o.projectPath.split('/').at(-1) ?? 'widget'),
    pub('CI_PROJECT_PATH', o.projectPath),
    pub('CI_PROJECT_PATH_SLUG', o.projectPath.toLowerCase().replace(/[^a-z0-9]+/g, '-')),
    pub('CI_PROJECT_NAMESPACE', namespace),
    pub('CI_PROJECT_URL', `${base}/${o.projectPath}`),
    pub('CI_DEFAULT_BRANCH', 'main'),
    pub('CI_COMMIT_SHA', o.sha),
    pub('CI_COMMIT_SHORT_SHA', o.sha.slice(0, 8)),
    pub('CI_COMMIT_REF_NAME', o.ref),
    pub('CI_COMMIT_REF_SLUG', o.ref.toLowerCase().replace(/[^a-z0-9]+/g, '-')),
    ...(o.refType === 'tag' ? [pub('CI_COMMIT_TAG', o.ref)] : [pub('CI_COMMIT_BRANCH', o.ref)]),
    pub('CI_RUNNER_ID', '88'),
    pub('GITLAB_USER_LOGIN', 'jdoe'),
    pub('GIT_DEPTH', String(o.depth)),
  ];
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
