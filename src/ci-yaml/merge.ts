// GitLab's deep merge (includes, extends, default:): hashes merge key by key, everything else
// — arrays included — is replaced by the overriding side.
import { isPlainMap, type CiMap, type CiValue } from './load.js';

export function deepMerge(base: CiMap, override: CiMap): CiMap {
  const result: CiMap = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = result[key];
    result[key] = isPlainMap(existing) && isPlainMap(value) ? deepMerge(existing, value) : value;
  }
  return result;
}

/** A deep copy, so merged jobs never share nested objects. ReferenceTags are immutable and kept. */
export function cloneValue<T extends CiValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneValue(item)) as T;
  if (isPlainMap(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cloneValue(item)])) as T;
  return value;
}
