// Which top-level keys are pipeline keywords and which are jobs; which job keys `default:` fills.

export const GLOBAL_KEYWORDS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'spec',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
]);

/** Keys that `default:` (and the deprecated top-level forms) give to jobs that lack them. */
export const DEFAULTABLE_KEYS = [
  'after_script',
  'artifacts',
  'before_script',
  'cache',
  'hooks',
  'id_tokens',
  'image',
  'interruptible',
  'retry',
  'services',
  'tags',
  'timeout',
] as const;

/** Deprecated global keywords GitLab still reads as defaults. */
export const DEPRECATED_GLOBAL_DEFAULTS = [
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
] as const;

export const DEFAULT_STAGES = ['build', 'test', 'deploy'];

/** Top-level keys that hold jobs (hidden `.jobs` included). */
export function isJobKey(key: string): boolean {
  return !GLOBAL_KEYWORDS.has(key);
}

export function isHiddenJob(name: string): boolean {
  return name.startsWith('.');
}
