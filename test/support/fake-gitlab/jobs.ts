// Turns test-friendly options into job records: a GitLab-shaped payload pointing at a served
// repository (with its refs/pipelines/<id> ref), raw payloads, and finished dependency jobs.
import type { JobDependency } from '../../../src/model/payload.js';
import { makeJobPayload, type JobPayloadOptions, type WireJobPayload } from './payloads.js';
import { createPipelineRef, defaultBranch, parentOf, resolveRef } from './projects.js';
import {
  newJobRecord,
  randomToken,
  type FakeGitLabState,
  type FakeJob,
  type ProjectRecord,
} from './state.js';

export interface EnqueueJobOptions extends Omit<
  JobPayloadOptions,
  'id' | 'token' | 'pipelineId' | 'baseUrl' | 'projectPath' | 'projectId' | 'dependencies'
> {
  /** A project registered with addProject (default: the first registered one, else `acme/widget`). */
  project?: string;
  pipelineId?: number;
  /** Ids of earlier jobs whose artifacts this job downloads (payload `dependencies`, §3.12). */
  dependencies?: number[];
  /** Runner features the job needs (default: derived from artifacts, cache and steps). */
  requiredFeatures?: string[];
  /** A last change to the wire payload before it is queued. */
  edit?: (payload: WireJobPayload) => void;
}

/** A job built by enqueueJob: its payload is known to have the wire shape. */
export type QueuedJob = FakeJob & { readonly payload: WireJobPayload };

/** A job like GitLab's job-basic.json fixture, for the given project and options. */
export function buildJob(
  state: FakeGitLabState,
  args: { options: EnqueueJobOptions; pipelineId: number; baseUrl: string },
): QueuedJob {
  const {
    project: projectOption,
    pipelineId: _p,
    dependencies,
    requiredFeatures,
    edit,
    ...payloadOptions
  } = args.options;
  const id = state.allocateJobId();
  const token = newJobToken();
  const projectPath = projectOption ?? state.projects.keys().next().value ?? 'acme/widget';
  const project = state.projects.get(projectPath);
  const payload = makeJobPayload({
    ...payloadOptions,
    ...(project === undefined ? {} : gitFacts(project, args.options, args.pipelineId)),
    id,
    token,
    pipelineId: args.pipelineId,
    baseUrl: args.baseUrl,
    projectPath,
    projectId: project?.id ?? 42,
    dependencies: (dependencies ?? []).map((dependency) => dependencyEntry(state, dependency, token)),
  });
  edit?.(payload);
  const body = JSON.stringify(payload);
  const job = newJobRecord({
    id,
    token,
    body,
    payload: JSON.parse(body) as Record<string, unknown>,
    projectPath,
    requiredFeatures: requiredFeatures ?? featuresNeededBy(payload),
    state: 'pending',
  });
  return job as QueuedJob;
}

/** A job whose payload is served byte for byte; its id and token are taken from it when present. */
export function buildRawJob(state: FakeGitLabState, body: string | object): FakeJob {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const parsed = parseObject(text);
  return newJobRecord({
    id: typeof parsed?.id === 'number' ? parsed.id : state.allocateJobId(),
    token: typeof parsed?.token === 'string' ? parsed.token : '',
    body: text,
    payload: parsed,
    projectPath: undefined,
    requiredFeatures: [],
    state: 'pending',
  });
}

/** A job that already succeeded, optionally with an archive artifact for later jobs' dependencies. */
export function buildFinishedJob(
  state: FakeGitLabState,
  finished: { name?: string; archive?: Buffer; filename?: string },
): FakeJob {
  const id = state.allocateJobId();
  const job = newJobRecord({
    id,
    token: newJobToken(),
    body: undefined,
    payload: { job_info: { name: finished.name ?? `build-${id}` } },
    projectPath: undefined,
    requiredFeatures: [],
    state: 'success',
  });
  if (finished.archive !== undefined) {
    const filename = finished.filename ?? 'artifacts.zip';
    job.artifacts.set('archive', { type: 'archive', format: 'zip', filename, bytes: finished.archive });
  }
  return job;
}

/** The `glcbt-64_` + 20 characters shape of current GitLab job tokens. */
function newJobToken(): string {
  return `glcbt-64_${randomToken(20)}`;
}

/** ref/sha/before_sha from the served repository, and its refs/pipelines/<id> ref. */
function gitFacts(
  project: ProjectRecord,
  options: EnqueueJobOptions,
  pipelineId: number,
): Partial<JobPayloadOptions> {
  const ref = options.ref ?? defaultBranch(project.bareDir);
  const resolved = resolveRef(project.bareDir, ref);
  const sha = options.sha ?? resolved.sha;
  createPipelineRef(project.bareDir, pipelineId, sha);
  return {
    ref,
    sha,
    refType: options.refType ?? resolved.refType,
    beforeSha: options.beforeSha ?? parentOf(project.bareDir, sha),
  };
}

function dependencyEntry(state: FakeGitLabState, id: number, token: string): JobDependency {
  const dependency = state.jobs.get(id);
  if (dependency === undefined) throw new Error(`dependency job ${id} does not exist`);
  const name = (dependency.payload?.job_info as { name?: string } | undefined)?.name ?? `job-${id}`;
  const archive = dependency.artifacts.get('archive');
  // Newer GitLab gives the current job's token for dependency downloads (§3.12).
  if (archive === undefined) return { id, name, token };
  return { id, name, token, artifacts_file: { filename: archive.filename, size: archive.bytes.length } };
}

/** Features GitLab requires of the runner for this payload (§2.1.2 "required features"). */
function featuresNeededBy(payload: WireJobPayload): string[] {
  const needed = new Set<string>();
  for (const artifact of payload.artifacts ?? []) {
    if (artifact.artifact_type !== 'archive') needed.add('upload_multiple_artifacts');
    if ((artifact.exclude ?? []).length > 0) needed.add('artifacts_exclude');
  }
  if (payload.cache.some((cache) => (cache.fallback_keys ?? []).length > 0))
    needed.add('fallback_cache_keys');
  if (payload.steps.some((step) => step.name === 'release')) needed.add('multi_build_steps');
  return [...needed];
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    return isObject ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
