// A planned job → the JSON payload GitLab's /jobs/request would deliver for it (protocol §3),
// so `tart exec` drives the job engine exactly as `tart run` does.
import type { ArtifactsSpec, PlannedJob } from '../ci-yaml/types.js';
import { expandKeepingUnknown, variableMap } from '../ci-yaml/variables.js';
import type { ImageSpec, ServiceSpec } from '../ci-yaml/types.js';
import type { JobArtifact, JobCache, JobDependency, JobImage, JobPayload, JobService, JobVariable } from '../model/payload.js';
import {
  jobVariables,
  pipelineVariables,
  type JobFacts,
  type PipelineFacts,
} from './predefined-variables.js';

/** GitLab's default project timeout. */
const DEFAULT_PROJECT_TIMEOUT_SECONDS = 3600;
/** GitLab's default shallow-clone depth for new projects. */
const DEFAULT_GIT_DEPTH = 20;

export interface ExecJobPayload extends JobPayload {
  services: JobService[];
  credentials: never[];
}

export interface BuildPayloadInput {
  job: PlannedJob;
  pipeline: PipelineFacts;
  jobFacts: JobFacts;
  /** `--variable KEY=VALUE`: pipeline variables, which win over YAML ones. */
  cliVariables: Array<{ key: string; value: string }>;
  /** Variables from the dotenv reports of the jobs whose artifacts this job takes. */
  dotenvVariables?: Array<{ key: string; value: string }>;
  caches: JobCache[];
  dependencies: JobDependency[];
}

// As GitLab renders a `services:` entry; its variables are public, like GitLab's.
function serviceEntry(service: ServiceSpec): JobService {
  return {
    name: service.name,
    ...(service.alias !== undefined ? { alias: service.alias } : {}),
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    ...(service.command ? { command: service.command } : {}),
    variables: (service.variables ?? []).map(({ key, value }) => ({ key, value, public: true })),
    ...(service.pullPolicy ? { pull_policy: service.pullPolicy } : {}),
    ...(service.docker ? { docker: service.docker } : {}),
  };
}

// As GitLab renders `image:`: its entrypoint, pull_policy and docker: options (executor_opts).
function imageEntry(image: ImageSpec): JobImage {
  return {
    name: image.name,
    ...(image.entrypoint ? { entrypoint: image.entrypoint } : {}),
    ...(image.pullPolicy ? { pull_policy: image.pullPolicy } : {}),
    ...(image.docker ? { docker: image.docker } : {}),
  };
}

export function buildJobPayload(input: BuildPayloadInput): ExecJobPayload {
  const { job, pipeline, jobFacts } = input;
  const timeout = job.timeout ?? DEFAULT_PROJECT_TIMEOUT_SECONDS;
  const variables = payloadVariables(input);
  const depth = Number(variableMap(variables).get('GIT_DEPTH') ?? DEFAULT_GIT_DEPTH);
  const ref = pipeline.repo.ref;
  return {
    id: jobFacts.jobId,
    token: jobFacts.token,
    allow_git_fetch: true,
    job_info: {
      id: jobFacts.jobId,
      name: job.name,
      stage: job.stage,
      project_id: pipeline.projectId,
      project_name: pipeline.repo.projectPath.split('/').pop() ?? pipeline.repo.projectPath,
      project_full_path: pipeline.repo.projectPath,
      pipeline_id: pipeline.pipelineId,
    },
    git_info: {
      repo_url: jobFacts.repoUrl,
      ref,
      sha: pipeline.sha,
      before_sha: pipeline.repo.beforeSha,
      ref_type: pipeline.repo.refType,
      refspecs: refspecs(pipeline.pipelineId, ref, pipeline.repo.refType, depth),
      depth: Number.isFinite(depth) ? depth : DEFAULT_GIT_DEPTH,
      repo_object_format: pipeline.repo.objectFormat,
      protected: false,
    },
    runner_info: { timeout },
    variables,
    steps: [
      {
        name: 'script',
        script: [...job.beforeScript, ...job.script],
        timeout,
        when: 'on_success',
        allow_failure: false,
      },
      ...(job.afterScript.length > 0
        ? [{ name: 'after_script', script: job.afterScript, timeout, when: 'always', allow_failure: true }]
        : []),
    ],
    hooks: job.hooks.preGetSourcesScript
      ? [{ name: 'pre_get_sources_script', script: job.hooks.preGetSourcesScript }]
      : [],
    ...(job.image ? { image: imageEntry(job.image) } : {}),
    services: job.services.map(serviceEntry),
    artifacts: job.artifacts ? artifactEntries(job.artifacts) : [],
    cache: input.caches,
    credentials: [],
    dependencies: input.dependencies,
    features: {
      trace_sections: true,
      failure_reasons: [
        'script_failure',
        'runner_system_failure',
        'job_execution_timeout',
        'unknown_failure',
        'stuck_or_timeout_failure',
        'unmet_prerequisites',
        'data_integrity_failure',
      ],
    },
  };
}

// Predefined, then YAML (global, job, matrix, rules), then command-line variables; YAML values
// expanded against what GitLab knows, unknown references kept for the runner (§10.3).
function payloadVariables(input: BuildPayloadInput): JobVariable[] {
  const predefined = [
    ...pipelineVariables(input.pipeline),
    ...jobVariables(input.job, input.jobFacts, input.pipeline),
  ];
  const dotenv = input.dotenvVariables ?? [];
  const known = variableMap(predefined, input.job.variables, dotenv, input.cliVariables);
  const entry = (
    variable: { key: string; value: string; raw?: boolean; masked?: boolean; public?: boolean },
    expand: boolean,
  ): JobVariable => ({
    key: variable.key,
    value: expand && !variable.raw ? expandKeepingUnknown(variable.value, known) : variable.value,
    public: variable.public ?? true,
    masked: variable.masked ?? false,
    ...(variable.raw ? { raw: true } : {}),
  });
  return [
    ...predefined.map((variable) => entry(variable, false)),
    ...input.job.variables.map((variable) => entry(variable, true)),
    // GitLab's precedence: dotenv variables win over YAML ones, pipeline variables over both.
    ...dotenv.map((variable) => entry(variable, false)),
    ...input.cliVariables.map((variable) => ({ ...entry(variable, false), public: false })),
  ];
}

function refspecs(pipelineId: number, ref: string, refType: string, depth: number): string[] {
  const pipelineRef = `+refs/pipelines/${pipelineId}:refs/pipelines/${pipelineId}`;
  if (depth === 0) return [pipelineRef, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];
  return [
    pipelineRef,
    refType === 'tag'
      ? `+refs/tags/${ref}:refs/tags/${ref}`
      : `+refs/heads/${ref}:refs/remotes/origin/${ref}`,
  ];
}

// Default file names and formats per report type (protocol §6.1).
const GZIP_REPORTS = new Set([
  'junit',
  'metrics',
  'metrics_referee',
  'network_referee',
  'dotenv',
  'cobertura',
  'jacoco',
  'cluster_applications',
  'cyclonedx',
  'annotations',
  'repository_xray',
]);
const ZIP_REPORTS = new Set(['lsif', 'scip']);
const REPORT_NAMES: Record<string, string> = {
  junit: 'junit.xml',
  cobertura: 'cobertura-coverage.xml',
  jacoco: 'jacoco.xml',
  dotenv: '.env',
  metrics: 'metrics.txt',
};

function artifactEntries(spec: ArtifactsSpec): JobArtifact[] {
  const entries: JobArtifact[] = [];
  if (spec.paths.length > 0 || spec.untracked) {
    entries.push({
      ...(spec.name !== undefined ? { name: spec.name } : {}),
      ...(spec.untracked !== undefined ? { untracked: spec.untracked } : {}),
      paths: spec.paths,
      ...(spec.exclude.length > 0 ? { exclude: spec.exclude } : {}),
      when: spec.when,
      ...(spec.expireIn !== undefined ? { expire_in: spec.expireIn } : {}),
      artifact_type: 'archive',
      artifact_format: 'zip',
    });
  }
  for (const [type, paths] of Object.entries(spec.reports)) {
    entries.push({
      name: REPORT_NAMES[type] ?? `gl-${type.replace(/_/g, '-')}-report.json`,
      paths,
      when: 'always',
      ...(spec.expireIn !== undefined ? { expire_in: spec.expireIn } : {}),
      artifact_type: type,
      artifact_format: GZIP_REPORTS.has(type) ? 'gzip' : ZIP_REPORTS.has(type) ? 'zip' : 'raw',
    });
  }
  return entries;
}
