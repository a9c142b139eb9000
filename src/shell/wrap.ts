// The fixed frame around a stage body (gitlab-runner 19.1+ layout, job-execution §2.1). The body
// is one ANSI-C string run by `eval` in a subshell, so bash reads the whole stage before running
// any of it and a command that reads stdin cannot swallow the rest of the script.
import { BASH_QUOTING, type ScriptQuoting } from './escape.js';

/** The complete script for BODY lines. Its exit status is that of the first failing command. */
export function wrapStageBody(body: string[], options: { debugTrace: boolean; quoting?: ScriptQuoting }): string {
  return [
    '#!/usr/bin/env bash',
    '',
    "trap 'exit 1' TERM",
    '',
    ...(options.debugTrace ? ['set -o xtrace'] : []),
    'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit',
    'set +o noclobber',
    `(trap 'exit 1' TERM; eval ${(options.quoting ?? BASH_QUOTING).quote(body.join('\n'))}) < /dev/null`,
    'exit 0',
    '',
  ].join('\n');
}
