// Phase 3b: `!reference [job, key, ...]` replaced by the value it points to. As in GitLab
// (Config#build_config) this runs after `extends`, so a reference sees what a job got through it.
import { CiConfigError } from './errors.js';
import { isPlainMap, ReferenceTag, type CiMap, type CiValue } from './load.js';
import { cloneValue } from './merge.js';

// GitLab allows references to nest ten levels deep.
const MAX_REFERENCE_DEPTH = 10;

export function resolveReferences(content: CiMap): CiMap {
  // `owner`: the top-level key (job) the reference is written in, for error messages.
  let owner: string | undefined;
  const resolve = (value: CiValue, chain: string[]): CiValue => {
    if (value instanceof ReferenceTag) return resolveTag(value, chain);
    if (Array.isArray(value)) return value.map((item) => resolve(item, chain));
    if (isPlainMap(value))
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, chain)]));
    return value;
  };

  const resolveTag = (tag: ReferenceTag, chain: string[]): CiValue => {
    const name = tag.path.join('.');
    const job = tag.path[0] ?? '';
    if (chain.includes(name)) {
      throw new CiConfigError(
        'CI_REFERENCE_CYCLE',
        `!reference [${tag.path.join(', ')}] refers to itself (${[...chain, name].join(' → ')})`,
        { location: tag.location, job },
      );
    }
    if (chain.length >= MAX_REFERENCE_DEPTH) {
      throw new CiConfigError(
        'CI_REFERENCE_TOO_DEEP',
        `!reference nesting is deeper than ${MAX_REFERENCE_DEPTH} levels`,
        { location: tag.location, ...(owner !== undefined ? { job: owner } : {}) },
      );
    }
    let target: CiValue | undefined = content;
    for (const key of tag.path) target = isPlainMap(target) ? target[key] : undefined;
    if (target === undefined) {
      throw new CiConfigError(
        'CI_REFERENCE_MISSING',
        `!reference [${tag.path.join(', ')}]: ${describeMissing(content, tag.path)}`,
        { location: tag.location, ...(owner !== undefined ? { job: owner } : {}) },
      );
    }
    return resolve(cloneValue(target), [...chain, name]);
  };

  const output: CiMap = {};
  for (const [key, value] of Object.entries(content)) {
    owner = key;
    output[key] = resolve(value, []);
  }
  return output;
}

function describeMissing(content: CiMap, path: string[]): string {
  let current: CiValue | undefined = content;
  for (const [index, key] of path.entries()) {
    const next: CiValue | undefined = isPlainMap(current) ? current[key] : undefined;
    if (next === undefined)
      return index === 0
        ? `job "${key}" does not exist`
        : `"${path.slice(0, index).join('.')}" has no key "${key}"`;
    current = next;
  }
  return 'not found';
}
