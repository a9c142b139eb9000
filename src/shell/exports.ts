// The variable exports written at the top of every stage but prepare_script (job-execution §2.4).
import type { JobVariable } from '../model/payload.js';
import { BASH_QUOTING, quotePath, type ScriptQuoting } from './escape.js';

export interface ExportOptions {
  variables: JobVariable[];
  /** `<CI_PROJECT_DIR>.tmp`: file variables and GITLAB_ENV live here. */
  tmpDir: string;
  /** Cleanup only exports the paths of file variables; it does not write them again. */
  writeFiles: boolean;
  /** Default: bash's. */
  quoting?: ScriptQuoting;
}

/** BODY lines exporting every variable in list order (the last duplicate wins), then GITLAB_ENV. */
export function exportLines(options: ExportOptions): string[] {
  return [
    ...options.variables.flatMap((variable) => exportVariable(variable, options)),
    ...gitlabEnvLines(options.tmpDir, options.quoting ?? BASH_QUOTING),
  ];
}

/** Path of the file that holds a file-type variable's contents. */
export function fileVariablePath(tmpDir: string, key: string): string {
  return `${tmpDir}/${key}`;
}

// One variable: `export KEY=value`, or for a file variable its contents in a 0600 file and the path.
function exportVariable(variable: JobVariable, options: ExportOptions): string[] {
  const quote = (options.quoting ?? BASH_QUOTING).quote;
  if (!variable.file) return [`export ${quote(variable.key)}=${quote(variable.value)}`];
  const path = quotePath(fileVariablePath(options.tmpDir, variable.key));
  const write = options.writeFiles
    ? [
        `mkdir -p ${quotePath(options.tmpDir)}`,
        // A file another user wrote (the helper stages run as root, an image's USER stages not)
        // is replaced, not rewritten; `[` is a builtin, so the usual case costs no process.
        `(umask 077 && { [ ! -e ${path} ] || [ -w ${path} ] || rm -f ${path}; } && printf '%s' ${quote(variable.value)} > ${path})`,
      ]
    : [];
  return [...write, `export ${quote(variable.key)}=${path}`];
}

// GITLAB_ENV: KEY=VALUE lines a job appends there are exported again in every later stage.
function gitlabEnvLines(tmpDir: string, quoting: ScriptQuoting): string[] {
  const envFile = `${tmpDir}/gitlab_runner_env`;
  return [
    `export GITLAB_ENV=${quoting.quote(envFile)}`,
    // Builtins where they do the same: no process per stage for an existing dir and file.
    `[ -d ${quotePath(tmpDir)} ] || mkdir -p ${quotePath(tmpDir)}`,
    `: >> ${quotePath(envFile)}`,
    `while read -r line; do export "$line"; done < ${quotePath(envFile)}`,
  ];
}
