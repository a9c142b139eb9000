// Checks GitLab's job entry makes that the schema does not (rules: [], job-level when: never), and
// the keys that become job variables or fields: environment → CI_ENVIRONMENT_*, coverage (RE2).
import { createHash } from 'node:crypto';
import { CiConfigError } from './errors.js';
import type { Where } from './job.js';
import { isPlainMap, type CiMap, type CiValue } from './load.js';
import { re2ToRegExp } from './re2.js';
import type { CiVariable } from './types.js';
import { expandKeepingUnknown } from './variables.js';

// Entry::Job's allowed `when`; `never` belongs in rules only.
const JOB_WHEN = ['on_success', 'on_failure', 'always', 'manual', 'delayed'];

export function checkJobEntry(job: CiMap, where: Where): void {
  if (Array.isArray(job.rules) && job.rules.length === 0)
    throw new CiConfigError(
      'CI_RULES_INVALID',
      "rules config can't be blank (leave rules out, or add a rule)",
      where,
    );
  if (job.when !== undefined && job.when !== null && !JOB_WHEN.includes(String(job.when)))
    throw new CiConfigError(
      'CI_INVALID_VALUE',
      `when should be one of: ${JOB_WHEN.join(', ')} (when: ${String(job.when)} is allowed only in rules)`,
      where,
    );
}

/** `coverage: /regex/`, checked as RE2; returned as written. */
export function parseCoverage(value: CiValue | undefined, where: Where): string | undefined {
  if (value === undefined || value === null) return undefined;
  const match = typeof value === 'string' ? /^\/(.*)\/([a-z]*)$/s.exec(value) : null;
  if (!match)
    throw new CiConfigError('CI_INVALID_VALUE', 'coverage must be a regular expression written /.../', where);
  try {
    re2ToRegExp(match[1] ?? '', match[2] ?? '');
  } catch (error) {
    throw new CiConfigError(
      'CI_INVALID_VALUE',
      `coverage is not a valid regular expression: ${(error as Error).message}`,
      where,
    );
  }
  return value as string;
}

/** CI_ENVIRONMENT_NAME, _SLUG, _URL, _ACTION and _TIER for `environment: name` or `{ name, url, action }`. */
export function environmentVariables(
  value: CiValue | undefined,
  lookup: ReadonlyMap<string, string>,
  where: Where,
): CiVariable[] {
  if (value === undefined || value === null) return [];
  const spec: CiMap = isPlainMap(value) ? value : { name: value };
  if (typeof spec.name !== 'string' || spec.name === '')
    throw new CiConfigError('CI_INVALID_VALUE', 'environment needs a name', where);
  const name = expandKeepingUnknown(spec.name, lookup);
  const action = typeof spec.action === 'string' ? spec.action : 'start';
  const tier = typeof spec.deployment_tier === 'string' ? spec.deployment_tier : guessTier(name);
  return [
    { key: 'CI_ENVIRONMENT_NAME', value: name },
    { key: 'CI_ENVIRONMENT_SLUG', value: environmentSlug(name) },
    ...(typeof spec.url === 'string'
      ? [{ key: 'CI_ENVIRONMENT_URL', value: expandKeepingUnknown(spec.url, lookup) }]
      : []),
    { key: 'CI_ENVIRONMENT_ACTION', value: action },
    { key: 'CI_ENVIRONMENT_TIER', value: tier },
  ];
}

/**
 * GitLab's environment slug (Gitlab::Slug::Environment): lower case, [^a-z0-9] → "-", a letter
 * first, no repeated "-", at most 24 characters; a changed or long name gets a 6-character suffix
 * from its SHA-256, so different names keep different slugs.
 */
export function environmentSlug(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`;
  slug = slug.replace(/-+/g, '-');
  if (slug.length <= 24 && slug === name) return slug.replace(/-$/, '');
  const short = slug.slice(0, 17);
  return `${short}${short.endsWith('-') ? '' : '-'}${suffix(name)}`;
}

function suffix(name: string): string {
  const digest = BigInt(`0x${createHash('sha256').update(name).digest('hex')}`);
  return digest.toString(36).slice(-6);
}

// Environment#guess_tier.
function guessTier(name: string): string {
  if (/(dev|review|trunk)/i.test(name)) return 'development';
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return 'testing';
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return 'staging';
  if (/(pr(o|)d|live)/i.test(name)) return 'production';
  return 'other';
}
