// Public API of the fake GitLab used by every suite that speaks to GitLab. See README.md.
export {
  startFakeGitLab,
  FakeGitLab,
  type FakeGitLabOptions,
  type EnqueueJobOptions,
  type QueuedJob,
} from './fake-gitlab.js';
export type { FaultSpec, FaultKind, FaultEndpoint } from './faults.js';
export {
  makeJobPayload,
  repoUrlWithToken,
  refspecsFor,
  GITLAB_FAILURE_REASONS,
  type JobPayloadOptions,
  type WireJobPayload,
} from './payloads.js';
export { traceChecksum } from './routes/job-update.js';
export type {
  FakeJob,
  JobStatus,
  JobUpdateRecord,
  StoredArtifact,
  RequestLogEntry,
  RunnerRecord,
  RunnerManager,
  ProjectRecord,
} from './state.js';
