// Section names and the cyan header of each stage (job execution reference §1.1).

export const STAGE = {
  prepareExecutor: 'prepare_executor',
  prepareScript: 'prepare_script',
  getSources: 'get_sources',
  clearWorktree: 'clear_worktree',
  restoreCache: 'restore_cache',
  downloadArtifacts: 'download_artifacts',
  afterScript: 'after_script',
  archiveCache: 'archive_cache',
  archiveCacheOnFailure: 'archive_cache_on_failure',
  uploadArtifactsOnSuccess: 'upload_artifacts_on_success',
  uploadArtifactsOnFailure: 'upload_artifacts_on_failure',
  cleanupFileVariables: 'cleanup_file_variables',
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [STAGE.prepareScript]: 'Preparing environment',
  [STAGE.getSources]: 'Getting source from Git repository',
  [STAGE.clearWorktree]: 'Deleting all tracked and untracked files due to source fetch failure',
  [STAGE.restoreCache]: 'Restoring cache',
  [STAGE.downloadArtifacts]: 'Downloading artifacts',
  [STAGE.afterScript]: 'Running after_script',
  [STAGE.archiveCache]: 'Saving cache for successful job',
  [STAGE.archiveCacheOnFailure]: 'Saving cache for failed job',
  [STAGE.uploadArtifactsOnSuccess]: 'Uploading artifacts for successful job',
  [STAGE.uploadArtifactsOnFailure]: 'Uploading artifacts for failed job',
  [STAGE.cleanupFileVariables]: 'Cleaning up project directory and file based variables',
};

/** The stage of one `steps[]` entry: "step_" plus the lower-cased step name. */
export function stepStageName(stepName: string): `step_${string}` {
  return `step_${stepName.toLowerCase()}`;
}

/** The header printed at the start of a stage's section. */
export function stageDescription(stage: string): string {
  return DESCRIPTIONS[stage] ?? `Executing ${JSON.stringify(stage)} stage of the job script`;
}

/** prepare_executor's header, with the executor name quoted as Go's %q does. */
export function prepareExecutorDescription(executorName: string): string {
  return `Preparing the ${JSON.stringify(executorName)} executor`;
}
