// The job payload GitLab sends in the 201 body of POST /jobs/request (protocol reference §3).
// These are the shapes after parsing: optional keys are normalised (null → undefined / []).
// Parsing and validation live in parse-payload.ts.

export interface JobVariable {
  key: string;
  value: string;
  public?: boolean;
  masked?: boolean;
  file?: boolean;
  raw?: boolean;
}

export interface JobInfo {
  id: number;
  name: string;
  stage: string;
  project_id: number;
  project_name: string;
  project_full_path?: string;
  pipeline_id?: number;
}

export interface GitInfo {
  repo_url: string;
  ref: string;
  sha: string;
  before_sha: string;
  ref_type: 'branch' | 'tag' | string;
  refspecs: string[];
  depth: number;
  repo_object_format?: 'sha1' | 'sha256' | string;
  protected?: boolean;
}

export interface RunnerInfo {
  timeout: number;
  runner_session_url?: string;
}

export interface JobStep {
  name: string;
  script: string[];
  timeout?: number;
  when?: string;
  allow_failure?: boolean;
}

export interface JobHook {
  name: 'pre_get_sources_script' | 'post_get_sources_script' | string;
  script: string[];
}

export interface JobArtifact {
  name?: string;
  untracked?: boolean;
  paths: string[];
  exclude?: string[];
  when?: 'on_success' | 'on_failure' | 'always' | '';
  expire_in?: string;
  artifact_type: string;
  artifact_format: 'zip' | 'gzip' | 'raw' | string;
}

export interface JobCache {
  key: string;
  untracked?: boolean;
  paths: string[];
  policy?: 'pull-push' | 'pull' | 'push' | '';
  when?: 'on_success' | 'on_failure' | 'always' | '';
  fallback_keys?: string[];
}

export interface JobDependency {
  id: number;
  name: string;
  token: string;
  artifacts_file?: { filename: string; size: number };
}

export interface JobFeatures {
  trace_sections?: boolean;
  failure_reasons?: string[];
  token_mask_prefixes?: string[];
}

/** `image:docker:` / `services:docker:` (payload `executor_opts.docker`), variables not yet expanded. */
export interface DockerExecutorOptions {
  /** The container's user (sent as a string or an integer; kept as a string). */
  user?: string;
  /** The image platform to pull, e.g. `linux/amd64`. */
  platform?: string;
}

export interface JobImage {
  name: string;
  /** `image:entrypoint`; [""] clears the image's entrypoint. */
  entrypoint?: string[];
  /** `image:pull_policy`, as a list. */
  pull_policy?: string[];
  /** `image:docker:`. */
  docker?: DockerExecutorOptions;
}

/** One `services:` entry (protocol reference §3.8); string-form services carry only `name`. */
export interface JobService {
  name: string;
  /** `alias` as sent: one or more aliases separated by commas and/or spaces. */
  alias?: string;
  /** Overrides the image's ENTRYPOINT; [""] clears it. */
  entrypoint?: string[];
  /** Overrides the image's CMD. */
  command?: string[];
  /** `services:variables`, added after the job's variables in the service's environment. */
  variables: JobVariable[];
  /** `services:pull_policy`, as a list. */
  pull_policy?: string[];
  /** `services:docker:`. */
  docker?: DockerExecutorOptions;
}

export interface JobPayload {
  id: number;
  token: string;
  allow_git_fetch?: boolean;
  job_info: JobInfo;
  git_info: GitInfo;
  runner_info: RunnerInfo;
  variables: JobVariable[];
  steps: JobStep[];
  hooks: JobHook[];
  image?: JobImage;
  /** Absent or empty: no services. */
  services?: JobService[];
  artifacts: JobArtifact[];
  cache: JobCache[];
  dependencies: JobDependency[];
  /** Registry logins GitLab hands the job (its container registry, its dependency proxy), RP §3.11. */
  credentials?: JobCredential[];
  features: JobFeatures;
}

/** One `credentials[]` entry; executors use the `registry` ones to pull images (docker login). */
export interface JobCredential {
  type: string;
  url: string;
  username: string;
  password: string;
}

/** Job states a runner reports with PUT /jobs/:id. */
export type JobState = 'running' | 'success' | 'failed';

/** The failure reasons gitlab-runner reports (protocol reference §5.4). */
export type FailureReason =
  | 'script_failure'
  | 'runner_system_failure'
  | 'job_execution_timeout'
  | 'unknown_failure'
  | 'api_failure'
  | 'stuck_or_timeout_failure'
  | 'runner_unsupported'
  | 'archived_failure'
  | 'unmet_prerequisites'
  | 'scheduler_failure'
  | 'data_integrity_failure'
  | 'runner_interrupted'
  | 'job_canceled'
  | 'artifact_download_failure'
  | 'artifact_upload_failure';
