// What the engine derives from the payload, the runner settings and the prepared environment:
// the settings read before anything runs, the stage scripts' context, and the secret masking.
import { posix } from 'node:path';
import type { JobEnvironment } from '../executor/types.js';
import { guestViewOf } from '../model/guest-urls.js';
import type { JobPayload, JobVariable } from '../model/payload.js';
import type { ScriptContext } from '../shell/stage-script.js';
import { createSecretMasker, maskText } from '../masking/secret-masker.js';
import { maskPrefixesOf, maskedValuesOf } from './masked-values.js';
import type { TraceMasking } from './trace-writer.js';
import { resolveFeatureFlags } from './feature-flags.js';
import type { RunnerSettings } from './types.js';
import { buildJobVariables, getVariable, isTruthy, projectDirFor, shortRunnerToken } from './variables.js';

/** Variables visible before the environment exists: runner `environment` then the payload's (later wins). */
export function earlyVariables(job: JobPayload, runner: RunnerSettings): JobVariable[] {
  const fromRunner = runner.environment.flatMap((entry): JobVariable[] => {
    const equals = entry.indexOf('=');
    return equals > 0 ? [{ key: entry.slice(0, equals), value: entry.slice(equals + 1) }] : [];
  });
  return [...fromRunner, ...job.variables];
}

/** Dirs, the full variable list and flags for the stage scripts. */
export function scriptContextFor(input: {
  job: JobPayload;
  runner: RunnerSettings;
  env: JobEnvironment;
}): ScriptContext {
  const { env } = input;
  // A guest that reaches the host's loopback at an alias sees loopback GitLab URLs rewritten to it.
  const view = env.hostLoopbackAlias
    ? guestViewOf({ job: input.job, runner: input.runner, alias: env.hostLoopbackAlias })
    : { job: input.job, runner: input.runner, gitRewrites: [] };
  const { job, runner } = view;
  // A relative builds_dir was already resolved by the executor (the shell executor against cwd).
  const buildsDir =
    runner.buildsDir !== undefined && posix.isAbsolute(runner.buildsDir) ? runner.buildsDir : env.buildsDir;
  // A shared (non-disposable) builds dir keeps gitlab-runner's <short token>/<concurrent id> level.
  const projectRoot = env.disposable
    ? buildsDir
    : posix.join(buildsDir, shortRunnerToken(runner.token), String(runner.concurrentProjectId ?? 0));
  const projectDir = projectDirFor({
    job,
    buildsDir: projectRoot,
    customBuildDir: runner.customBuildDir ?? env.disposable,
  });
  const variables = buildJobVariables({
    job,
    runner,
    executorName: env.executorName,
    buildsDir,
    projectDir,
    disposable: env.disposable,
    revision: runner.revision,
    concurrentId: runner.concurrentId,
    concurrentProjectId: runner.concurrentProjectId,
    featureFlags: resolveFeatureFlags(runner.featureFlags, earlyVariables(job, runner)),
    tls: runner.tls,
  });
  return {
    job,
    variables,
    buildsDir,
    projectDir,
    tmpDir: `${projectDir}.tmp`,
    runner,
    ...(view.gitRewrites.length > 0 ? { gitRewrites: view.gitRewrites } : {}),
    debugTrace: !runner.debugTraceDisabled && isTruthy(getVariable(variables, 'CI_DEBUG_TRACE')),
    preBuildScript: runner.preBuildScript,
    postBuildScript: runner.postBuildScript,
    traceSections: job.features.trace_sections === true,
    executorName: env.executorName,
    // A container image may have only dash or busybox sh, which lack bash's $'…' strings.
    posixQuoting:
      env.userScriptCommand !== undefined || isTruthy(getVariable(variables, 'FF_POSIXLY_CORRECT_ESCAPES')),
  };
}

/** Masking of every masked variable's value and the token prefixes (job execution reference §8). */
export function traceMaskingFor(job: JobPayload, variables: JobVariable[]): TraceMasking {
  const values = maskedValuesOf(job, variables);
  const prefixes = maskPrefixesOf(job);
  return {
    createStreamMasker: () => createSecretMasker({ values, prefixes }),
    maskText: (text) => maskText(text, values, prefixes),
  };
}
