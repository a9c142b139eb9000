// Phase 5: should the job exist, and with which `when`? `rules:` (first match wins) or the older
// `only`/`except` (refs, variables, changes).
import picomatch from 'picomatch';
import { CiConfigError, type SourceLocation } from './errors.js';
import { evaluateExpression } from './expression.js';
import { isPlainMap, type CiMap, type CiValue } from './load.js';
import type { AllowFailure, CiVariable, JobWhen } from './types.js';
import { expandKeepingUnknown, normaliseVariables } from './variables.js';

export interface RulesContext {
  /** Pipeline, global and job variables, last wins. */
  variables: ReadonlyMap<string, string>;
  /** All project files, for `exists`. */
  listFiles: () => Promise<string[]>;
  /** Files changed by the pipeline's commit (or against `compare_to`); undefined: unknown, so `changes` matches. */
  changedFiles: (compareTo?: string) => Promise<string[] | undefined>;
}

export type RulesOutcome =
  | { included: false }
  | {
      included: true;
      when?: JobWhen;
      allowFailure?: AllowFailure;
      variables: CiVariable[];
      needs?: CiValue;
      startIn?: string;
    };

interface Where {
  location?: SourceLocation;
  job: string;
}

/** Applies `rules`, else `only`/`except`, to one job. */
export async function evaluateJobRules(
  job: CiMap,
  context: RulesContext,
  where: Where,
): Promise<RulesOutcome> {
  if (job.rules !== undefined && job.rules !== null) return evaluateRules(job.rules, context, where);
  return (await evaluateOnlyExcept(job, context, where))
    ? { included: true, variables: [] }
    : { included: false };
}

async function evaluateRules(rules: CiValue, context: RulesContext, where: Where): Promise<RulesOutcome> {
  const list = Array.isArray(rules) ? rules.flat(10) : [rules];
  for (const rule of list) {
    if (!isPlainMap(rule))
      throw new CiConfigError(
        'CI_INVALID_VALUE',
        'each rule must be a mapping (if, changes, exists, when, ...)',
        where,
      );
    if (!(await ruleMatches(rule, context, where))) continue;
    const when = rule.when === undefined || rule.when === null ? undefined : (String(rule.when) as JobWhen);
    if (when === 'never') return { included: false };
    return {
      included: true,
      when,
      allowFailure:
        rule.allow_failure === undefined ? undefined : parseAllowFailure(rule.allow_failure, where),
      variables: normaliseVariables(rule.variables, where),
      needs: rule.needs,
      startIn: typeof rule.start_in === 'string' ? rule.start_in : undefined,
    };
  }
  return { included: false };
}

async function ruleMatches(rule: CiMap, context: RulesContext, where: Where): Promise<boolean> {
  if (rule.if !== undefined && !expression(String(rule.if), context, where)) return false;
  if (rule.exists !== undefined && !(await existsMatches(rule.exists, context, where))) return false;
  if (rule.changes !== undefined && !(await changesMatch(rule.changes, context, where))) return false;
  return true;
}

function expression(text: string, context: RulesContext, where: Where): boolean {
  try {
    return evaluateExpression(text, context.variables);
  } catch (error) {
    if (error instanceof CiConfigError) throw new CiConfigError(error.code, error.message, where);
    throw error;
  }
}

async function existsMatches(exists: CiValue, context: RulesContext, where: Where): Promise<boolean> {
  const patterns = pathList(isPlainMap(exists) ? exists.paths : exists, context, 'rules:exists', where);
  const files = await context.listFiles();
  return patterns.some((pattern) => files.some(matcher(pattern)));
}

async function changesMatch(changes: CiValue, context: RulesContext, where: Where): Promise<boolean> {
  const compareTo =
    isPlainMap(changes) && typeof changes.compare_to === 'string' ? changes.compare_to : undefined;
  const changed = await context.changedFiles(compareTo);
  if (changed === undefined) return true;
  const patterns = pathList(isPlainMap(changes) ? changes.paths : changes, context, 'changes', where);
  return patterns.some((pattern) => changed.some(matcher(pattern)));
}

function matcher(pattern: string): (file: string) => boolean {
  const matches = picomatch(pattern, { dot: true });
  return (file) => matches(file);
}

// An empty pattern names no file; GitLab's schema requires non-empty path strings.
function pathList(value: CiValue | undefined, context: RulesContext, key: string, where: Where): string[] {
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string' || item.trim() === '')
      throw new CiConfigError('CI_INVALID_VALUE', `${key} entries must be non-empty file patterns`, where);
    return expandKeepingUnknown(item, context.variables).replace(/^\.?\//, '');
  });
}

/** `allow_failure: true|false|{ exit_codes: N | [N...] }`. */
export function parseAllowFailure(
  value: CiValue | undefined,
  where: { location?: SourceLocation; job?: string },
): AllowFailure {
  if (value === undefined || value === null) return { allowed: false, exitCodes: [] };
  if (typeof value === 'boolean') return { allowed: value, exitCodes: [] };
  if (isPlainMap(value) && value.exit_codes !== undefined) {
    const codes = Array.isArray(value.exit_codes) ? value.exit_codes : [value.exit_codes];
    return { allowed: false, exitCodes: codes.map(Number) };
  }
  throw new CiConfigError(
    'CI_INVALID_VALUE',
    'allow_failure must be true, false or { exit_codes: [...] }',
    where,
  );
}

// `only`/`except` as GitLab documents the basic forms: a list of refs, or { refs, variables, changes }.
async function evaluateOnlyExcept(job: CiMap, context: RulesContext, where: Where): Promise<boolean> {
  const only = job.only ?? ['branches', 'tags'];
  if (!(await policyMatches(only, context, where))) return false;
  if (job.except === undefined || job.except === null) return true;
  return !(await policyMatches(job.except, context, where));
}

async function policyMatches(policy: CiValue, context: RulesContext, where: Where): Promise<boolean> {
  const spec = isPlainMap(policy) ? policy : { refs: policy };
  const checks: boolean[] = [];
  if (spec.refs !== undefined && spec.refs !== null) checks.push(refsMatch(spec.refs, context));
  if (spec.variables !== undefined) {
    const expressions = Array.isArray(spec.variables) ? spec.variables : [spec.variables];
    checks.push(expressions.some((text) => expression(String(text), context, where)));
  }
  if (spec.changes !== undefined) checks.push(await changesMatch(spec.changes, context, where));
  return checks.every(Boolean);
}

// `only: [pushes, schedules, ...]` keywords → CI_PIPELINE_SOURCE values.
const ONLY_SOURCE_KEYWORDS: Record<string, string> = {
  pushes: 'push',
  web: 'web',
  schedules: 'schedule',
  api: 'api',
  triggers: 'trigger',
  pipelines: 'pipeline',
  chat: 'chat',
  external: 'external',
  external_pull_requests: 'external_pull_request_event',
};

function refsMatch(refs: CiValue, context: RulesContext): boolean {
  const list = Array.isArray(refs) ? refs.map(String) : [String(refs)];
  const branch = context.variables.get('CI_COMMIT_BRANCH');
  const tag = context.variables.get('CI_COMMIT_TAG');
  const source = context.variables.get('CI_PIPELINE_SOURCE') ?? 'push';
  const ref = tag ?? branch ?? '';
  return list.some((entry) => {
    if (entry === 'branches') return branch !== undefined;
    if (entry === 'tags') return tag !== undefined;
    if (entry === 'merge_requests') return source === 'merge_request_event';
    const sourceName = ONLY_SOURCE_KEYWORDS[entry];
    if (sourceName !== undefined) return source === sourceName;
    const regex = /^\/(.*)\/([a-z]*)$/.exec(entry);
    if (regex) return new RegExp(regex[1] ?? '', regex[2]).test(ref);
    return entry === ref;
  });
}
