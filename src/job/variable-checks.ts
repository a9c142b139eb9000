// Refuses job variables no job can use safely, before anything is prepared or written: a file
// variable's key becomes a file name under the job's tmp dir, so it may not leave it (`/`,
// `..`); sizes and counts are bounded like GitLab's own plan limits, so one payload cannot
// make the runner quote, mask and write gigabytes.
import { TartError } from '../errors.js';
import type { JobVariable } from '../model/payload.js';

export const VARIABLE_LIMITS = {
  /** `KEY=value` with its NUL: Linux's MAX_ARG_STRLEN. A plain variable is exported, and the
   *  kernel refuses to start any command whose environment holds a longer one (E2BIG), so a
   *  larger value cannot work. (GitLab's own plan limit, `ci_variable_value_size`, is 120 KiB
   *  on GitLab.com and 360 KiB by default self-managed.) */
  exportedBytes: 128 * 1024,
  /** GitLab's default `ci_variable_file_value_size` (self-managed). */
  fileValueBytes: 3 * 1024 * 1024,
  /** Above GitLab's project limit (8,000 variables) plus the predefined ones. bash's cost of
   *  starting a command grows with the square of the exported variables (5,000: 0.3 s,
   *  20,000: 7 s per change of the environment), so more would stall every stage. */
  count: 20_000,
} as const;

/** Throws TartError JOB_VARIABLE_REFUSED naming the variable and the limit. */
export function checkJobVariables(variables: readonly JobVariable[]): void {
  if (variables.length > VARIABLE_LIMITS.count) {
    throw refused(`the job has ${variables.length} variables; at most ${VARIABLE_LIMITS.count} are accepted`);
  }
  for (const variable of variables) {
    if (variable.file === true) checkFileKey(variable.key);
    if (variable.file === true) checkSize(variable, variable.value, VARIABLE_LIMITS.fileValueBytes);
    else checkSize(variable, `${variable.key}=${variable.value}\0`, VARIABLE_LIMITS.exportedBytes);
  }
}

function checkSize(variable: JobVariable, text: string, limit: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no byte count.
  if (text.length * 3 <= limit) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= limit) return;
  const what =
    variable.file === true
      ? `file variable ${printable(variable.key)} holds ${bytes} bytes; at most ${limit} are accepted`
      : `variable ${printable(variable.key)} takes ${bytes} bytes as KEY=value; Linux starts no command with an environment variable over ${limit}`;
  throw refused(what, variable.key);
}

// gitlab-runner writes `<tmp dir>/<key>` as is; a key that is a path would write elsewhere.
function checkFileKey(key: string): void {
  if (key === '' || key === '.' || key === '..' || key.includes('/') || key.includes('\0')) {
    throw refused(
      `file variable ${printable(key)} has a key that is not a plain file name (no "/", "." or "..")`,
      key,
    );
  }
}

function printable(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key);
}

function refused(message: string, key?: string): TartError {
  return new TartError('JOB_VARIABLE_REFUSED', message, { details: key === undefined ? {} : { key } });
}
