// Phase 4: `default:` and the deprecated top-level image/services/cache/before_script/after_script
// fill keys a job lacks (no merging: a job's own key replaces the default). `inherit:` limits it.
import { isPlainMap, type CiMap, type CiValue } from './load.js';
import { DEFAULTABLE_KEYS, DEPRECATED_GLOBAL_DEFAULTS } from './keywords.js';

export function applyDefaults(job: CiMap, config: CiMap): CiMap {
  const defaults = collectDefaults(config);
  const inherited = inheritedKeys(job.inherit, 'default');
  const result: CiMap = { ...job };
  for (const [key, value] of Object.entries(defaults)) {
    if (result[key] === undefined && inherited(key)) result[key] = value;
  }
  return result;
}

/** Which global variables the job inherits (`inherit: variables: false | [names]`). */
export function inheritsVariable(job: CiMap): (name: string) => boolean {
  return inheritedKeys(job.inherit, 'variables');
}

function collectDefaults(config: CiMap): CiMap {
  const defaults: CiMap = {};
  for (const key of DEPRECATED_GLOBAL_DEFAULTS) if (config[key] !== undefined) defaults[key] = config[key];
  if (isPlainMap(config.default)) {
    for (const key of DEFAULTABLE_KEYS)
      if (config.default[key] !== undefined) defaults[key] = config.default[key];
  }
  return defaults;
}

function inheritedKeys(
  inherit: CiValue | undefined,
  kind: 'default' | 'variables',
): (name: string) => boolean {
  const setting = isPlainMap(inherit) ? inherit[kind] : undefined;
  if (setting === false) return () => false;
  if (Array.isArray(setting)) {
    const names = new Set(setting.map(String));
    return (name) => names.has(name);
  }
  return () => true;
}
