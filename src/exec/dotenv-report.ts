// `artifacts:reports:dotenv`: the KEY=VALUE lines a job wrote become variables of the jobs that
// take its artifacts (dependencies/needs), as GitLab's Ci::ParseDotenvArtifactService makes them
// when the runner uploads the report. GitLab refuses the upload (400, so the job fails) when the
// gzip file is not under the size limit, a line is not KEY=VALUE, a key is not [A-Za-z0-9_], or
// there are more variables than the limit. Keys and values are stripped; quotes are kept (GitLab
// documents that it does not unquote); the last of two equal keys wins.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** GitLab's plan limits for self-managed instances: `dotenv_size` and `dotenv_variables`. */
export const DOTENV_LIMITS = { sizeBytes: 5 * 1024, variables: 20 } as const;

const KEY = /^[a-zA-Z0-9_]+$/;

export class DotenvReportError extends Error {}

/** The variables in a stored dotenv report (gzip); throws DotenvReportError where GitLab refuses it. */
export async function readDotenvReport(path: string, limits = DOTENV_LIMITS): Promise<Array<{ key: string; value: string }>> {
  const file = await readFile(path);
  if (!(file.length < limits.sizeBytes)) {
    throw new DotenvReportError(`Dotenv Artifact Too Big. Maximum Allowable Size: ${limits.sizeBytes}`);
  }
  return parseDotenv(gunzipSync(file).toString('utf8'), limits);
}

export function parseDotenv(text: string, limits = DOTENV_LIMITS): Array<{ key: string; value: string }> {
  const variables = new Map<string, string>();
  for (const line of linesOf(text.replace(/^\uFEFF/, ''))) {
    const equals = line.indexOf('=');
    if (equals < 0) throw new DotenvReportError('Invalid Format');
    const key = line.slice(0, equals).trim();
    if (!KEY.test(key)) throw new DotenvReportError("Validation failed: Key can contain only letters, digits and '_'.");
    variables.delete(key);
    variables.set(key, line.slice(equals + 1).trim());
  }
  if (variables.size > limits.variables) {
    throw new DotenvReportError(`Dotenv files cannot have more than ${limits.variables} variables`);
  }
  return [...variables].map(([key, value]) => ({ key, value }));
}

// Ruby's each_line: every line with its newline, and a last one without when the text does not end in one.
function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
