// ARTIFACT_COMPRESSION_LEVEL / CACHE_COMPRESSION_LEVEL (job-execution ref §4.5, §5.2): the
// deflate level for zip archives. `fastest` stores without compression, which is what
// already-compressed data (jars, node tarballs, images) wants. The numbers are fastzip's (the
// archiver gitlab-runner uses by default, docker-executor ref §8): default is level 5, not zlib's 6.
import type { JobVariable } from '../model/payload.js';
import { expandVariables } from '../model/variables.js';
import { helperLine } from './trace-lines.js';

const LEVELS: Record<string, number> = { fastest: 0, fast: 1, default: 5, slow: 7, slowest: 9 };
export const DEFAULT_COMPRESSION_LEVEL = 5;

/** The zlib level named by `variableName` in the job's variables; unknown names warn and use default. */
export function compressionLevel(
  variableName: string,
  variables: JobVariable[],
  log: (line: string) => void,
): number {
  const variable = [...variables].reverse().find((candidate) => candidate.key === variableName);
  if (variable === undefined) return DEFAULT_COMPRESSION_LEVEL;
  const name = (variable.raw ? variable.value : expandVariables(variable.value, variables))
    .trim()
    .toLowerCase();
  if (name === '') return DEFAULT_COMPRESSION_LEVEL;
  const level = LEVELS[name];
  if (level !== undefined) return level;
  log(helperLine('warning', `compression level "${name}" is invalid, falling back to default`));
  return DEFAULT_COMPRESSION_LEVEL;
}
