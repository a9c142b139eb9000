// get_sources plumbing around git itself (job-execution §3.3a–b): lock/config cleanup, the
// template dir every `git init` copies, and the external config that carries the credentials.
import type { GitRemote } from '../model/git-credentials.js';
import { escapeShell, quotePath } from './escape.js';

/** Paths under `<CI_PROJECT_DIR>.tmp` that get_sources and cleanup share. */
export function gitPaths(tmpDir: string): {
  templateDir: string;
  extConfig: string;
  credentialsFile: string;
} {
  return {
    templateDir: `${tmpDir}/git-template`,
    extConfig: `${tmpDir}/.gitlab-runner.ext.conf`,
    credentialsFile: `${tmpDir}/.gitlab-runner.credentials`,
  };
}

/**
 * Removes stale git locks (a killed job leaves them) and, unless `keepConfig`, the repo config and
 * hooks a previous job could have planted.
 */
export function gitCleanupLines(input: {
  projectDir: string;
  tmpDir: string;
  keepConfig: boolean;
  submodules: boolean;
}): string[] {
  const git = `${input.projectDir}/.git`;
  const { templateDir } = gitPaths(input.tmpDir);
  const locks = ['index.lock', 'shallow.lock', 'HEAD.lock', 'hooks/post-checkout', 'config.lock'];
  return [
    removeFilesLine(locks.map((name) => `${git}/${name}`)),
    ...(input.submodules
      ? [
          findDelete(
            `${git}/modules`,
            `\\( ${locks.map((name) => `-path ${quotePath(`*/${name}`)}`).join(' -o ')} \\) -type f`,
          ),
        ]
      : []),
    findDelete(`${git}/refs`, '-name "*.lock" -type f'),
    ...(input.keepConfig
      ? []
      : [
          removeFilesLine([`${templateDir}/config`]),
          ...removeDirLines(`${templateDir}/hooks`),
          removeFilesLine([`${git}/config`]),
          ...removeDirLines(`${git}/hooks`),
        ]),
  ];
}

/** One `rm -f` for all of `paths` (one process, where gitlab-runner spends one per file). */
export function removeFilesLine(paths: readonly string[]): string {
  return `rm "-f" ${paths.map((path) => quotePath(path)).join(' ')}`;
}

/** `rm -r -f` of a directory, first making it writable so read-only trees go too. */
export function removeDirLines(dir: string): string[] {
  return [
    `if [ -d ${quotePath(dir)} ]; then chmod "-R" "u+rwX" ${quotePath(dir)}; fi`,
    `rm "-r" "-f" ${quotePath(dir)}`,
  ];
}

/**
 * The template dir and the external config. Repos include the ext config through `include.path`
 * (the template puts it into every new .git/config); it names a credential helper for the GitLab
 * host that prints a 0600 credentials file, written by the `printf` builtin so the token is never
 * on a command line and never in .git/config.
 */
export function gitConfigLines(input: {
  tmpDir: string;
  remote: GitRemote;
  sslLines?: string[];
  /** insteadOf rewrites for GIT_SUBMODULE_FORCE_HTTPS. */
  rewrites?: Array<{ url: string; insteadOf: string }>;
}): string[] {
  const { templateDir, extConfig, credentialsFile } = gitPaths(input.tmpDir);
  const templateConfig = `${templateDir}/config`;
  const { credentials } = input.remote;
  return [
    `mkdir -p ${quotePath(templateDir)}`,
    removeFilesLine([extConfig, credentialsFile]),
    ...(credentials
      ? [
          `(umask 077 && printf '%s' ${escapeShell(`username=${credentials.username}\npassword=${credentials.password}\n`)} > ${quotePath(credentialsFile)})`,
        ]
      : []),
    `(umask 077 && printf '%s' ${escapeShell(extConfigText(input, credentialsFile))} > ${quotePath(extConfig)})`,
    // The settings gitlab-runner sets with five `git config -f` calls, written at once by the
    // printf builtin: the template dir is the runner's own, nothing else writes its config.
    `printf '%s' ${escapeShell(templateConfigText(extConfig))} > ${quotePath(templateConfig)}`,
    `export GLR_EXT_GIT_CONFIG_PATH=${quotePath(extConfig)}`,
  ];
}

// The template's config, as `git config -f` would have written it: the job defaults and the
// include of the ext config.
function templateConfigText(extConfig: string): string {
  return [
    '[init]\n\tdefaultBranch = none\n',
    '[fetch]\n\trecurseSubmodules = false\n',
    '[credential]\n\tinteractive = never\n',
    '[gc]\n\tautoDetach = false\n',
    `[include]\n\tpath = ${configQuote(extConfig)}\n`,
  ].join('');
}

// git config file text: a credential helper per GitLab host (after disabling any other helper
// there, so no credential store keeps the token), plus any extra `[http]` lines.
function extConfigText(
  input: { remote: GitRemote; sslLines?: string[]; rewrites?: Array<{ url: string; insteadOf: string }> },
  credentialsFile: string,
): string {
  const { remote } = input;
  const helper = `!f(){ if [ "$1" = get ] ; then cat ${shSingleQuote(credentialsFile)} ; fi ; } ; f`;
  const credentials = remote.credentials
    ? remote.credentialBases.map(
        (base) => `[credential ${configQuote(base)}]\n\thelper = ""\n\thelper = ${configQuote(helper)}\n`,
      )
    : [];
  const rewrites = (input.rewrites ?? []).map(
    (rewrite) => `[url ${configQuote(rewrite.url)}]\n\tinsteadOf = ${configQuote(rewrite.insteadOf)}\n`,
  );
  return [...credentials, ...rewrites, ...(input.sslLines ?? []).map((line) => `${line}\n`)].join('');
}

// A POSIX-sh single-quoted word.
function shSingleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A double-quoted git config string (subsection names and values share these escapes). */
export function configQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

// `find … -exec rm -f` guarded by the dir existing, with the portable `+`/`;` probe gitlab-runner uses.
function findDelete(dir: string, filter: string): string {
  return `if [ -d ${quotePath(dir)} ]; then et='+' ; find /dev/null -exec true {} + 2>/dev/null || et=';' ; find ${quotePath(dir)} ${filter} -exec rm -f {} "\${et}"; fi`;
}
