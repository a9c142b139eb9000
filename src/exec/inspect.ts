// `tart exec --list` and `--preview`: plan without running anything (no git server, no executor).
import { stringify } from 'yaml';
import { createProjectFiles, type ProjectFiles } from '../ci-yaml/project-files.js';
import { expandConfiguration, planPipeline } from '../ci-yaml/plan.js';
import type { PipelinePlan } from '../ci-yaml/types.js';
import { checkConfigCommitted, createCommitProjectFiles } from './git-project-files.js';
import { createGitRunner, type GitRunner } from './git.js';
import { pipelineVariables } from './predefined-variables.js';
import { changedFiles, readRepository, type RepositoryState } from './repository.js';

export interface InspectOptions {
  cwd: string;
  file: string;
  dirty: boolean;
  variables: Array<{ key: string; value: string }>;
  version: string;
  git?: GitRunner;
}

/** The jobs a pipeline for the current commit (or working tree with dirty) would create. */
export async function planLocalPipeline(options: InspectOptions): Promise<PipelinePlan> {
  const { git, repo, files } = await openProject(options);
  return planPipeline({
    files,
    entryFile: options.file,
    pipelineVariables: [
      ...pipelineVariables({
        pipelineId: 1,
        pipelineIid: 1,
        createdAt: new Date().toISOString(),
        repo,
        sha: repo.sha,
        server: { url: 'http://127.0.0.1', host: '127.0.0.1', port: 80 },
        projectId: 1,
        configPath: options.file,
        version: options.version,
      }),
      ...options.variables,
    ],
    changedFiles: (compareTo) => changedFiles(git, repo, { compareTo, includeUncommitted: options.dirty }),
  });
}

/** Text for --list: one row per job with stage, when, and what it needs. */
export function formatJobList(plan: PipelinePlan): string {
  const rows = plan.jobs.map((job) => [
    job.name,
    job.stage,
    job.when + (job.allowFailure.allowed || job.allowFailure.exitCodes.length > 0 ? ' (allow_failure)' : ''),
    job.needs ? (job.needs.length === 0 ? '[]' : job.needs.map((need) => need.job).join(', ')) : '',
  ]);
  const header = ['JOB', 'STAGE', 'WHEN', 'NEEDS'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return (
    [header, ...rows]
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Text for --preview: the configuration after includes, !reference, extends and defaults, as YAML. */
export async function previewConfiguration(options: InspectOptions): Promise<string> {
  const { files } = await openProject(options);
  const expanded = await expandConfiguration({ files, entryFile: options.file });
  const { stages: _declared, ...rest } = expanded.content;
  return stringify({ stages: expanded.stages, ...rest }, { lineWidth: 0, aliasDuplicateObjects: false });
}

async function openProject(
  options: InspectOptions,
): Promise<{ git: GitRunner; repo: RepositoryState; files: ProjectFiles }> {
  const git = options.git ?? createGitRunner();
  const repo = await readRepository(git, options.cwd);
  const files = options.dirty
    ? createProjectFiles(repo.root)
    : createCommitProjectFiles({ git, root: repo.root, sha: repo.sha });
  if (!options.dirty) await checkConfigCommitted(files, options.file, repo.root);
  return { git, repo, files };
}
