// The get_sources stage body (job-execution §3.2–§3.4): hooks, strategy, checkout, submodules.
import { forceHttpsRewrites, gitRemoteFor, type GitRemote } from '../model/git-credentials.js';
import { readGitSettings, type GitSettings } from '../model/git-settings.js';
import { getVariable, isTruthy } from '../model/variables.js';
import { echoNotice, echoWarning, userCommandLines, type UserLinesOptions } from './echo.js';
import { escapeShell, quotePath, shellCommand } from './escape.js';
import { exportLines, fileVariablePath } from './exports.js';
import { configQuote, gitCleanupLines, gitConfigLines, gitPaths, removeDirLines } from './git-config.js';
import type { ScriptContext } from './stage-script.js';
import { submoduleLines } from './submodules.js';

/** BODY lines of get_sources. Throws a TartError for an invalid GIT_SUBMODULE_* setting. */
export function getSourcesLines(ctx: ScriptContext, scriptSections: boolean): string[] {
  const settings = readGitSettings(ctx.job, ctx.variables);
  const remote = gitRemoteFor({ job: ctx.job, runner: ctx.runner, variables: ctx.variables });
  const usesGit = settings.strategy === 'clone' || settings.strategy === 'fetch';
  const hooks = (prefix: UserLinesOptions['prefix'], scripts: string[]): string[] =>
    usesGit ? userCommandLines(scripts, { prefix, scriptSections }) : [];
  return [
    ...exportLines({ variables: ctx.variables, tmpDir: ctx.tmpDir, writeFiles: true }),
    'export GIT_TERMINAL_PROMPT=0',
    'export GCM_INTERACTIVE=Never',
    ...settings.warnings.map((warning) => echoWarning(warning)),
    ...(usesGit && isDisposable(ctx) ? globalSslLines(ctx, remote) : []),
    ...hooks('pre_clone_script', [
      ...optional(ctx.runner.preGetSourcesScript),
      ...hookLines(ctx, 'pre_get_sources_script'),
    ]),
    ...(settings.lfsSkipSmudge ? [] : ['export GIT_LFS_SKIP_SMUDGE=1']),
    ...strategyLines(ctx, settings, remote),
    ...checkoutLines(ctx, settings),
    ...submoduleLines(settings),
    ...hooks('post_clone_script', [
      ...hookLines(ctx, 'post_get_sources_script'),
      ...optional(ctx.runner.postGetSourcesScript),
    ]),
    ...credentialRejectLines(remote),
  ];
}

/** Purges the job token from any credential store the job's git may use (best effort). */
export function credentialRejectLines(remote: GitRemote): string[] {
  if (!/^https?:\/\//.test(remote.base)) return [];
  return [
    `echo ${escapeShell(`url=${remote.base}\nusername=gitlab-ci-token`)} | git credential reject || true`,
  ];
}

// clone / fetch / none / empty.
function strategyLines(ctx: ScriptContext, settings: GitSettings, remote: GitRemote): string[] {
  const projectDir = ctx.projectDir;
  switch (settings.strategy) {
    case 'none':
      return [echoNotice('Skipping Git repository setup'), `mkdir -p ${quotePath(projectDir)}`];
    case 'empty':
      return [
        echoNotice('Skipping Git repository setup and creating an empty build directory'),
        ...removeDirLines(projectDir),
        `mkdir -p ${quotePath(projectDir)}`,
      ];
    case 'clone':
    case 'fetch':
      return [
        ...gitCleanupLines({
          projectDir,
          tmpDir: ctx.tmpDir,
          keepConfig: ctx.executorName === 'shell',
          submodules: settings.submoduleStrategy !== 'none',
        }),
        ...gitConfigLines({
          tmpDir: ctx.tmpDir,
          remote,
          sslLines: isDisposable(ctx) ? [] : extSslLines(ctx, remote),
          rewrites: [
            ...(ctx.gitRewrites ?? []),
            ...(settings.submoduleForceHttps ? forceHttpsRewrites(remote, ctx.variables) : []),
          ],
        }),
        ...(settings.strategy === 'clone' ? removeDirLines(projectDir) : []),
        ...fetchLines(ctx, settings, remote),
      ];
  }
}

// git init + remote + fetch of GitLab's refspecs (writeRefspecFetchCmd).
function fetchLines(ctx: ScriptContext, settings: GitSettings, remote: GitRemote): string[] {
  const { templateDir } = gitPaths(ctx.tmpDir);
  const objectFormat = ctx.job.git_info.repo_object_format;
  const formatArgs = objectFormat && objectFormat !== 'sha1' ? ['--object-format', objectFormat] : [];
  const arch = getVariable(ctx.variables, 'CI_RUNNER_EXECUTABLE_ARCH') ?? 'linux/amd64';
  const userAgent = `http.userAgent=tart ${ctx.runner.version} ${arch}`;
  const fetch = shellCommand(
    'git',
    '-c',
    userAgent,
    'fetch',
    'origin',
    '--no-recurse-submodules',
    ...ctx.job.git_info.refspecs,
    ...(settings.depth > 0 ? ['--depth', String(settings.depth)] : []),
    ...settings.fetchExtraFlags,
  );
  return [
    echoNotice(
      settings.depth > 0
        ? `Fetching changes with git depth set to ${settings.depth}...`
        : 'Fetching changes...',
    ),
    shellCommand('git', 'init', ctx.projectDir, '--template', templateDir, ...formatArgs),
    shellCommand('cd', ctx.projectDir),
    `if ${shellCommand('git', 'remote', 'add', 'origin', remote.url)} >/dev/null 2>&1 ; then`,
    echoNotice('Created fresh repository.'),
    'else',
    shellCommand('git', 'remote', 'set-url', 'origin', remote.url),
    `git "config" "--file" ".git/config" "--replace-all" "include.path" "$GLR_EXT_GIT_CONFIG_PATH" "\\.gitlab-runner\\.ext\\.conf$"`,
    'fi',
    ...(settings.depth > 0
      ? [fetch]
      : [`if [ -e ".git/shallow" ]; then ${fetch} --unshallow; else ${fetch}; fi`]),
  ];
}

// Detached checkout of the exact sha, clean, LFS (writeCheckoutCmd).
function checkoutLines(ctx: ScriptContext, settings: GitSettings): string[] {
  if (!settings.checkout) return [echoNotice('Skipping Git checkout')];
  const { sha, ref } = ctx.job.git_info;
  return [
    echoNotice(`Checking out ${sha.slice(0, 8)} as detached HEAD (ref is ${ref})...`),
    shellCommand('git', '-c', 'submodule.recurse=false', 'checkout', '-f', '-q', sha),
    ...(settings.cleanFlags.length > 0 ? [shellCommand('git', 'clean', ...settings.cleanFlags)] : []),
    ...(settings.lfsSkipSmudge ? [] : ['if git lfs version >/dev/null 2>&1 ; then git lfs pull; echo; fi']),
  ];
}

// TLS files for git: global config in a disposable environment, the ext config in a shared one.
function globalSslLines(ctx: ScriptContext, remote: GitRemote): string[] {
  return sslSettings(ctx, remote).map(
    ([setting, path]) =>
      `git config --global ${escapeShell(`http.${remote.base}.${setting}`)} ${quotePath(path)}`,
  );
}

function extSslLines(ctx: ScriptContext, remote: GitRemote): string[] {
  const settings = sslSettings(ctx, remote);
  if (settings.length === 0) return [];
  return [
    `[http ${configQuote(remote.base)}]`,
    ...settings.map(([setting, path]) => `\t${setting} = ${configQuote(path)}`),
  ];
}

// The http.<base>.ssl* settings for the CI_SERVER_TLS_* file variables that exist (HTTPS only).
function sslSettings(ctx: ScriptContext, remote: GitRemote): Array<[string, string]> {
  const files: Array<[string, string]> = [
    ['sslCAInfo', 'CI_SERVER_TLS_CA_FILE'],
    ['sslCert', 'CI_SERVER_TLS_CERT_FILE'],
    ['sslKey', 'CI_SERVER_TLS_KEY_FILE'],
  ];
  if (!remote.base.startsWith('https://')) return [];
  return files
    .filter(([, key]) => getVariable(ctx.variables, key) !== undefined)
    .map(([setting, key]) => [setting, fileVariablePath(ctx.tmpDir, key)]);
}

function isDisposable(ctx: ScriptContext): boolean {
  return isTruthy(getVariable(ctx.variables, 'CI_DISPOSABLE_ENVIRONMENT'));
}

// The payload's hook lines for `name` (pre_/post_get_sources_script).
function hookLines(ctx: ScriptContext, name: string): string[] {
  return ctx.job.hooks.filter((hook) => hook.name === name).flatMap((hook) => hook.script);
}

function optional(script: string | undefined): string[] {
  return script === undefined || script.trim() === '' ? [] : [script];
}
