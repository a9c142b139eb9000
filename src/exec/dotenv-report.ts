// `artifacts:reports:dotenv`: the KEY=VALUE lines a job wrote become variables of the jobs that
// take its artifacts (dependencies/needs), as GitLab's ParseDotenvArtifactService makes them.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** The variables in a stored dotenv report (gzip, one member per file). */
export async function readDotenvReport(path: string): Promise<Array<{ key: string; value: string }>> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  return parseDotenv(text);
}

export function parseDotenv(text: string): Array<{ key: string; value: string }> {
  return text.split(/\r?\n/).flatMap((line) => {
    const match = LINE.exec(line.trim());
    if (!match) return [];
    const raw = (match[2] ?? '').trim();
    const quoted = /^(['"])(.*)\1$/.exec(raw);
    return [{ key: match[1] as string, value: quoted ? (quoted[2] ?? '') : raw }];
  });
}
