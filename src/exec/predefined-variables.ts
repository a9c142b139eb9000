// The predefined CI_* variables GitLab would set, derived from the local repository and the
// local "server" (the git server tart exec starts). Pipeline-level ones also feed rules:if.
import type { CiVariable, PlannedJob } from '../ci-yaml/types.js';
import type { RepositoryState } from './repository.js';
import { slugify } from './repository.js';

export interface LocalServer {
  /** e.g. "http://127.0.0.1:39211" as jobs reach it. */
  url: string;
  host: string;
  port: number;
}

export interface PipelineFacts {
  pipelineId: number;
  pipelineIid: number;
  /** ISO time the pipeline was created. */
  createdAt: string;
  repo: RepositoryState;
  /** The commit jobs check out (HEAD or the --dirty snapshot). */
  sha: string;
  server: LocalServer;
  projectId: number;
  configPath: string;
  version: string;
}

export function pipelineVariables(facts: PipelineFacts): CiVariable[] {
  const { repo, server } = facts;
  const [namespace, name] = splitProjectPath(repo.projectPath);
  const projectUrl = `${server.url}/${repo.projectPath}`;
  const [major = '0', minor = '0', patch = '0'] = facts.version.split(/[.-]/);
  const ref = repo.ref;
  const list: Array<[string, string]> = [
    ['CI_PIPELINE_ID', String(facts.pipelineId)],
    ['CI_PIPELINE_URL', `${projectUrl}/-/pipelines/${facts.pipelineId}`],
    ['CI', 'true'],
    ['GITLAB_CI', 'true'],
    ['CI_SERVER_FQDN', server.host],
    ['CI_SERVER_URL', server.url],
    ['CI_SERVER_HOST', server.host],
    ['CI_SERVER_PORT', String(server.port)],
    ['CI_SERVER_PROTOCOL', 'http'],
    ['CI_SERVER_NAME', 'tart exec'],
    ['CI_SERVER_VERSION', facts.version],
    ['CI_SERVER_VERSION_MAJOR', major],
    ['CI_SERVER_VERSION_MINOR', minor],
    ['CI_SERVER_VERSION_PATCH', patch],
    ['CI_SERVER_REVISION', 'local'],
    ['GITLAB_FEATURES', ''],
    ['CI_PROJECT_ID', String(facts.projectId)],
    ['CI_PROJECT_NAME', name],
    ['CI_PROJECT_TITLE', name],
    ['CI_PROJECT_DESCRIPTION', ''],
    ['CI_PROJECT_PATH', repo.projectPath],
    ['CI_PROJECT_PATH_SLUG', slugify(repo.projectPath)],
    ['CI_PROJECT_NAMESPACE', namespace],
    ['CI_PROJECT_NAMESPACE_SLUG', slugify(namespace)],
    ['CI_PROJECT_ROOT_NAMESPACE', namespace.split('/')[0] ?? namespace],
    ['CI_PROJECT_URL', projectUrl],
    ['CI_PROJECT_VISIBILITY', 'private'],
    ['CI_DEFAULT_BRANCH', repo.defaultBranch],
    ['CI_CONFIG_PATH', facts.configPath],
    ['CI_API_V4_URL', `${server.url}/api/v4`],
    ['CI_API_GRAPHQL_URL', `${server.url}/api/graphql`],
    // Where GitLab's bundled templates pull their images from (Project#ci_template_variables).
    ['CI_TEMPLATE_REGISTRY_HOST', 'registry.gitlab.com'],
    ['CI_PIPELINE_IID', String(facts.pipelineIid)],
    ['CI_PIPELINE_SOURCE', 'push'],
    ['CI_PIPELINE_CREATED_AT', facts.createdAt],
    ['CI_PIPELINE_NAME', ''],
    ['CI_COMMIT_SHA', facts.sha],
    ['CI_COMMIT_SHORT_SHA', facts.sha.slice(0, 8)],
    ['CI_COMMIT_BEFORE_SHA', repo.beforeSha],
    ['CI_COMMIT_REF_NAME', ref],
    ['CI_COMMIT_REF_SLUG', slugify(ref)],
    ...(repo.refType === 'tag'
      ? ([
          ['CI_COMMIT_TAG', ref],
          ['CI_COMMIT_TAG_MESSAGE', ''],
        ] as Array<[string, string]>)
      : ([['CI_COMMIT_BRANCH', ref]] as Array<[string, string]>)),
    ['CI_COMMIT_MESSAGE', repo.commit.message],
    ['CI_COMMIT_TITLE', repo.commit.title],
    ['CI_COMMIT_DESCRIPTION', repo.commit.description],
    ['CI_COMMIT_REF_PROTECTED', 'false'],
    ['CI_COMMIT_TIMESTAMP', repo.commit.timestamp],
    ['CI_COMMIT_AUTHOR', repo.commit.author],
    ['GITLAB_USER_ID', '1'],
    ['GITLAB_USER_EMAIL', repo.commit.authorEmail],
    ['GITLAB_USER_LOGIN', repo.commit.authorEmail.split('@')[0] ?? ''],
    ['GITLAB_USER_NAME', repo.commit.authorName],
  ];
  return list.map(([key, value]) => ({ key, value }));
}

export interface JobFacts {
  jobId: number;
  startedAt: string;
  token: string;
  repoUrl: string;
  executorName: string;
}

/** Job-level predefined variables; `masked` marks the ones the engine must hide. */
export function jobVariables(
  job: PlannedJob,
  facts: JobFacts,
  pipeline: PipelineFacts,
): Array<CiVariable & { masked?: boolean; public?: boolean }> {
  const projectUrl = `${pipeline.server.url}/${pipeline.repo.projectPath}`;
  return [
    { key: 'CI_JOB_ID', value: String(facts.jobId) },
    { key: 'CI_JOB_URL', value: `${projectUrl}/-/jobs/${facts.jobId}` },
    { key: 'CI_JOB_TOKEN', value: facts.token, masked: true, public: false },
    { key: 'CI_JOB_STARTED_AT', value: facts.startedAt },
    { key: 'CI_REPOSITORY_URL', value: facts.repoUrl, public: false },
    { key: 'CI_JOB_NAME', value: job.name },
    { key: 'CI_JOB_NAME_SLUG', value: slugify(job.name) },
    { key: 'CI_JOB_STAGE', value: job.stage },
    ...(job.when === 'manual' ? [{ key: 'CI_JOB_MANUAL', value: 'true' }] : []),
    ...(job.node ? [] : [{ key: 'CI_NODE_TOTAL', value: '1' }]),
    { key: 'CI_RUNNER_ID', value: '1' },
    { key: 'CI_RUNNER_DESCRIPTION', value: `tart exec (${facts.executorName})` },
    { key: 'CI_RUNNER_TAGS', value: JSON.stringify(job.tags).replace(/","/g, '", "') },
  ];
}

function splitProjectPath(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? ['local', path] : [path.slice(0, slash), path.slice(slash + 1)];
}
