// Stage → the complete bash script fed on stdin to a fresh `bash` (job-execution §2, §2.7).
import { hostname } from 'node:os';
import type { JobPayload, JobVariable } from '../model/payload.js';
import { gitRemoteFor } from '../model/git-credentials.js';
import { readGitSettings } from '../model/git-settings.js';
import type { RunnerSettings } from '../model/runner-settings.js';
import { expandVariables, getVariable, isTruthy } from '../model/variables.js';
import { echoNotice, userCommandLines } from './echo.js';
import { BASH_QUOTING, commandWith, POSIX_QUOTING, type ScriptQuoting } from './escape.js';
import { exportLines, fileVariablePath } from './exports.js';
import { credentialRejectLines, getSourcesLines } from './get-sources.js';
import { gitCleanupLines, gitPaths, removeFilesLine } from './git-config.js';
import { wrapStageBody } from './wrap.js';

export type ScriptStage =
  | 'prepare_script'
  | 'get_sources'
  | 'step_script'
  | `step_${string}`
  | 'after_script'
  | 'cleanup_file_variables';

export interface ScriptContext {
  job: JobPayload;
  /** The job's variables from buildJobVariables (already expanded). */
  variables: JobVariable[];
  buildsDir: string;
  projectDir: string;
  /** `${projectDir}.tmp`: file variables, git config, GITLAB_ENV. */
  tmpDir: string;
  runner: RunnerSettings;
  /** git insteadOf rewrites from a loopback GitLab origin to the one the guest reaches (src/model/guest-urls.ts). */
  gitRewrites?: Array<{ url: string; insteadOf: string }>;
  /** CI_DEBUG_TRACE is on and not disabled by the runner: `set -o xtrace`. */
  debugTrace: boolean;
  /** features.trace_sections: with FF_SCRIPT_SECTIONS, multi-line commands get their own section. */
  traceSections: boolean;
  /** Executor name; "shell" keeps .git/config between jobs (gitlab-runner's clean_git_config default). */
  executorName?: string;
  /** Runner `pre_build_script` / `post_build_script`, run in the step_* shell around the step lines. */
  preBuildScript?: string;
  postBuildScript?: string;
  /** after_script only: CI_JOB_STATUS (success, failed, canceled, timedout). */
  jobStatus?: string;
  /** Shown in prepare_script's "Running on … via HOST..."; default: this host's name. */
  runnerHostname?: string;
  /**
   * The user's stages (step_*, after_script) quote for any POSIX sh rather than for bash:
   * FF_POSIXLY_CORRECT_ESCAPES, or a job whose image may have only dash or busybox sh.
   */
  posixQuoting?: boolean;
}

/**
 * The full bash text of one stage, or undefined when the stage has nothing to run (no such step,
 * no after_script lines). Throws a TartError for invalid GIT_SUBMODULE_* settings.
 */
export function buildStageScript(stage: ScriptStage, ctx: ScriptContext): string | undefined {
  const body = stageBody(stage, ctx);
  return body === undefined ? undefined : wrapStageBody(body, { debugTrace: ctx.debugTrace, quoting: quotingOf(stage, ctx) });
}

// Only the user's stages may meet a shell that is not bash (a container image's).
function quotingOf(stage: ScriptStage, ctx: ScriptContext): ScriptQuoting {
  const userStage = stage === 'after_script' || stage.startsWith('step_');
  return userStage && ctx.posixQuoting ? POSIX_QUOTING : BASH_QUOTING;
}

// BODY lines per stage.
function stageBody(stage: ScriptStage, ctx: ScriptContext): string[] | undefined {
  const scriptSections = ctx.traceSections && isTruthy(getVariable(ctx.variables, 'FF_SCRIPT_SECTIONS'));
  switch (stage) {
    case 'prepare_script':
      return prepareLines(ctx);
    case 'get_sources':
      return getSourcesLines(ctx, scriptSections);
    case 'after_script':
      return afterScriptLines(ctx, scriptSections, quotingOf(stage, ctx));
    case 'cleanup_file_variables':
      return cleanupLines(ctx);
    default:
      return stepLines(stage.slice('step_'.length), ctx, scriptSections, quotingOf(stage, ctx));
  }
}

// prepare_script: where the job runs, and a fresh GITLAB_ENV. No exports.
function prepareLines(ctx: ScriptContext): string[] {
  const host = ctx.runnerHostname ?? hostname();
  return [
    `echo "Running on $(hostname) via ${host.replace(/[\\"$`]/g, (char) => `\\${char}`)}..."`,
    removeFilesLine([`${ctx.tmpDir}/gitlab_runner_env`, `${ctx.tmpDir}/masking.db`]),
  ];
}

// step_<name>: exports, cd, pre_build_script, the step's lines, post_build_script.
function stepLines(
  name: string,
  ctx: ScriptContext,
  scriptSections: boolean,
  quoting: ScriptQuoting,
): string[] | undefined {
  const step = ctx.job.steps.find((candidate) => candidate.name.toLowerCase() === name);
  if (!step) return undefined;
  // A release step is the one kind of user line the runner expands itself.
  const lines =
    name === 'release' ? step.script.map((line) => expandVariables(line, ctx.variables)) : step.script;
  return [
    ...exportLines({ variables: ctx.variables, tmpDir: ctx.tmpDir, writeFiles: true, quoting }),
    commandWith(quoting, 'cd', ctx.projectDir),
    ...userCommandLines(ctx.preBuildScript ? [ctx.preBuildScript] : [], {
      prefix: 'pre_build_script',
      scriptSections,
      quoting,
    }),
    ...userCommandLines(lines, { prefix: 'script_step', scriptSections, quoting }),
    ...userCommandLines(ctx.postBuildScript ? [ctx.postBuildScript] : [], {
      prefix: 'post_build_script',
      scriptSections,
      quoting,
    }),
  ];
}

// after_script: a separate shell with CI_JOB_STATUS set to the outcome.
function afterScriptLines(
  ctx: ScriptContext,
  scriptSections: boolean,
  quoting: ScriptQuoting,
): string[] | undefined {
  const step = ctx.job.steps.find((candidate) => candidate.name === 'after_script');
  if (!step || step.script.length === 0) return undefined;
  const variables =
    ctx.jobStatus === undefined
      ? ctx.variables
      : [...ctx.variables, { key: 'CI_JOB_STATUS', value: ctx.jobStatus }];
  return [
    ...exportLines({ variables, tmpDir: ctx.tmpDir, writeFiles: true, quoting }),
    commandWith(quoting, 'cd', ctx.projectDir),
    echoNotice('Running after script...', quoting),
    ...userCommandLines(step.script, { prefix: 'after_script_step', scriptSections, quoting }),
  ];
}

// cleanup_file_variables: drop the credentials, file variables and runner files. No cd.
function cleanupLines(ctx: ScriptContext): string[] {
  const { extConfig, credentialsFile } = gitPaths(ctx.tmpDir);
  const remote = gitRemoteFor({ job: ctx.job, runner: ctx.runner, variables: ctx.variables });
  const fileKeys = [
    ...new Set(ctx.variables.filter((variable) => variable.file).map((variable) => variable.key)),
  ];
  const strategy = safeStrategy(ctx);
  return [
    ...exportLines({ variables: ctx.variables, tmpDir: ctx.tmpDir, writeFiles: false }),
    ...credentialRejectLines(remote),
    removeFilesLine([
      `${ctx.tmpDir}/gitlab_runner_env`,
      `${ctx.tmpDir}/masking.db`,
      extConfig,
      credentialsFile,
      `${ctx.tmpDir}/.glr.gconf`,
      ...fileKeys.map((key) => fileVariablePath(ctx.tmpDir, key)),
    ]),
    ...(strategy === 'clone' || strategy === 'fetch'
      ? gitCleanupLines({
          projectDir: ctx.projectDir,
          tmpDir: ctx.tmpDir,
          keepConfig: ctx.executorName === 'shell',
          submodules: false,
        })
      : []),
    removeFilesLine([`${ctx.buildsDir}/.gitlab-build-uid-gid`]),
  ];
}

// The git strategy for cleanup; a settings error was already reported by get_sources.
function safeStrategy(ctx: ScriptContext): string | undefined {
  try {
    return readGitSettings(ctx.job, ctx.variables).strategy;
  } catch {
    return undefined;
  }
}
