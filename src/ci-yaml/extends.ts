// Phase 3b: `extends` — multi-level, several parents, GitLab's deep merge (hashes merge, arrays
// replace). Parents merge in order, the job itself last.
import { CiConfigError } from './errors.js';
import { isPlainMap, pathKey, type CiMap, type SourceMap } from './load.js';
import { deepMerge } from './merge.js';
import { isJobKey } from './keywords.js';

// GitLab: "You can use up to eleven levels of inheritance".
const MAX_EXTENDS_DEPTH = 11;

export function resolveExtends(content: CiMap, sources: SourceMap): CiMap {
  const resolved = new Map<string, CiMap>();

  const resolveJob = (name: string, chain: string[]): CiMap => {
    const done = resolved.get(name);
    if (done) return done;
    const location = sources.get(pathKey([name, 'extends'])) ?? sources.get(pathKey([name]));
    if (chain.includes(name)) {
      throw new CiConfigError('CI_EXTENDS_CYCLE', `extends cycle: ${[...chain, name].join(' → ')}`, {
        location,
        job: chain[0],
      });
    }
    if (chain.length > MAX_EXTENDS_DEPTH) {
      throw new CiConfigError(
        'CI_EXTENDS_TOO_DEEP',
        `extends is nested more than ${MAX_EXTENDS_DEPTH} levels`,
        { location, job: chain[0] },
      );
    }
    const job = content[name];
    if (!isPlainMap(job))
      throw new CiConfigError('CI_INVALID_VALUE', 'a job must be a mapping', { location, job: name });
    const { extends: parentsValue, ...own } = job;
    const parents =
      parentsValue === undefined ? [] : Array.isArray(parentsValue) ? parentsValue : [parentsValue];
    let merged: CiMap = {};
    for (const parent of parents) {
      if (typeof parent !== 'string' || !isPlainMap(content[parent])) {
        throw new CiConfigError('CI_EXTENDS_UNKNOWN', `extends unknown job "${String(parent)}"`, {
          location,
          job: name,
        });
      }
      merged = deepMerge(merged, resolveJob(parent, [...chain, name]));
    }
    const result = deepMerge(merged, own);
    resolved.set(name, result);
    return result;
  };

  const output: CiMap = {};
  for (const [key, value] of Object.entries(content)) {
    output[key] = isJobKey(key) && isPlainMap(value) ? resolveJob(key, []) : value;
  }
  return output;
}
