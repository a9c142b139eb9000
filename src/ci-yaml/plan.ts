// The pipeline planner: load → includes → extends → !reference → defaults → rules → validate → plan.
// Pure apart from the ProjectFiles seam and the changed-files callback.
import { CiConfigError } from './errors.js';
import { resolveExtends } from './extends.js';
import { loadWithIncludes } from './includes.js';
import { applyDefaults, inheritsVariable } from './defaults.js';
import {
  parseArtifacts,
  parseCache,
  parseImage,
  parseNeeds,
  parseRetry,
  parseServices,
  parseTimeout,
  scriptLines,
  stringList,
  type Where,
} from './job.js';
import { DEFAULT_STAGES, isHiddenJob, isJobKey } from './keywords.js';
import { isPlainMap, pathKey, type CiMap, type SourceMap } from './load.js';
import { expandParallel } from './matrix.js';
import type { ProjectFiles } from './project-files.js';
import { resolveReferences } from './references.js';
import { evaluateJobRules, parseAllowFailure, type RulesContext } from './rules.js';
import { validateAgainstSchema } from './schema.js';
import type { CiVariable, JobWhen, PipelinePlan, PlannedJob } from './types.js';
import { checkJobEntry, environmentVariables, parseCoverage } from './job-entry.js';
import { childEntryFiles, prefixChildPlan, triggerKind } from './trigger.js';
import { checkPipeline } from './validate.js';
import { normaliseVariables, variableMap } from './variables.js';

export interface PlanOptions {
  files: ProjectFiles;
  /** Project-relative path of the main file; default ".gitlab-ci.yml". */
  entryFile?: string;
  /** Predefined pipeline variables (CI_COMMIT_BRANCH, ...) and command-line variables, which win. */
  pipelineVariables: CiVariable[];
  /** Files changed by the commit (or against compare_to); undefined: unknown. */
  changedFiles?: (compareTo?: string) => Promise<string[] | undefined>;
}

export interface ExpandedConfiguration {
  content: CiMap;
  sources: SourceMap;
  files: string[];
  stages: string[];
  warnings: string[];
}

// Pipeline variables GitLab does not know yet while it reads includes (the pipeline is not saved).
const NOT_IN_INCLUDES = new Set([
  'CI_PIPELINE_ID',
  'CI_PIPELINE_URL',
  'CI_PIPELINE_IID',
  'CI_PIPELINE_CREATED_AT',
]);

/** The configuration after includes, !reference, extends and defaults (what `--preview` prints). */
export async function expandConfiguration(
  options: Pick<PlanOptions, 'files' | 'entryFile'> & Partial<PlanOptions>,
): Promise<ExpandedConfiguration> {
  const includeVariables = variableMap(
    (options.pipelineVariables ?? []).filter((variable) => !NOT_IN_INCLUDES.has(variable.key)),
  );
  const merged = await loadWithIncludes(options.files, options.entryFile ?? '.gitlab-ci.yml', {
    checkFile: validateAgainstSchema,
    rules: rulesContext({ ...options, pipelineVariables: options.pipelineVariables ?? [] }, includeVariables),
  });
  // As GitLab's Config#build_config: includes, then extends, then !reference tags.
  const extended = resolveReferences(resolveExtends(merged.content, merged.sources));
  const content: CiMap = {};
  for (const [key, value] of Object.entries(extended)) {
    if (!isJobKey(key)) content[key] = value;
    else if (!isHiddenJob(key) && isPlainMap(value)) content[key] = applyDefaults(value, extended);
  }
  const declared = Array.isArray(content.stages) ? stringList(content.stages) : DEFAULT_STAGES;
  const stages = ['.pre', ...declared.filter((stage) => stage !== '.pre' && stage !== '.post'), '.post'];
  return { content, sources: merged.sources, files: merged.files, stages, warnings: merged.warnings };
}

export async function planPipeline(options: PlanOptions): Promise<PipelinePlan> {
  const config = await expandConfiguration(options);
  const globalVariables = normaliseVariables(config.content.variables, {
    location: config.sources.get(pathKey(['variables'])),
  });
  const workflow = await evaluateWorkflow(config, options, globalVariables);
  const jobs: PlannedJob[] = [];
  const definedJobs = new Set<string>();
  const ignored: NonNullable<PipelinePlan['ignored']> = [];
  const notes: string[] = [];
  for (const [name, value] of Object.entries(config.content)) {
    if (!isJobKey(name) || !isPlainMap(value)) continue;
    definedJobs.add(name);
    // CI Steps jobs and multi-project triggers need a GitLab server; they are listed, not run.
    if (value.script === undefined && value.run !== undefined) {
      ignored.push({ name, reason: 'run: (CI Steps) jobs are not supported' });
      continue;
    }
    const trigger =
      value.script === undefined && value.trigger !== undefined ? triggerKind(value.trigger) : undefined;
    if (trigger?.kind === 'unsupported') {
      ignored.push({ name, reason: trigger.reason });
      continue;
    }
    checkStageDeclared(name, value, config);
    if (workflow.included)
      jobs.push(
        ...(await planJob(
          name,
          trigger ? { ...value, script: [] } : value,
          config,
          options,
          [...globalVariables, ...workflow.variables],
          notes,
        )),
      );
  }
  for (const [index, job] of jobs.entries()) {
    const trigger = config.content[job.definedAs];
    const kind =
      isPlainMap(trigger) && trigger.trigger !== undefined && trigger.script === undefined
        ? triggerKind(trigger.trigger)
        : undefined;
    if (kind?.kind === 'child') jobs[index] = await withChildPipeline(job, kind, options);
  }
  const ordered = checkPipeline({
    jobs: orderByStage(jobs, config.stages),
    stages: config.stages,
    definedJobs,
  });
  if (definedJobs.size === 0)
    throw new CiConfigError('CI_NO_JOBS', 'the configuration defines no jobs', {
      location: { file: config.files[0] ?? '.gitlab-ci.yml', line: 1 },
    });
  return {
    stages: config.stages,
    jobs: ordered,
    files: config.files,
    ...(ignored.length > 0 ? { ignored } : {}),
    ...(notes.length > 0 ? { notes: [...new Set(notes)] } : {}),
    ...(config.warnings.length > 0 ? { warnings: config.warnings } : {}),
  };
}

// A trigger job's child pipeline: planned from its include, with the trigger's variables
// forwarded as pipeline variables (trigger:forward:yaml_variables, on by default).
async function withChildPipeline(
  job: PlannedJob,
  trigger: Extract<ReturnType<typeof triggerKind>, { kind: 'child' }>,
  options: PlanOptions,
): Promise<PlannedJob> {
  const { files, entry } = childEntryFiles(options.files, trigger.include);
  const forwarded = [...job.variables, { key: 'CI_PIPELINE_SOURCE', value: 'parent_pipeline' }];
  const plan = await planPipeline({
    ...options,
    files,
    entryFile: entry,
    pipelineVariables: [...options.pipelineVariables, ...forwarded],
  });
  // Forwarded variables are pipeline variables of the child: they win over its YAML ones.
  const withForwarded = {
    ...plan,
    jobs: plan.jobs.map((child) => ({ ...child, variables: [...child.variables, ...forwarded] })),
  };
  return { ...job, child: { plan: prefixChildPlan(withForwarded, job.name), depend: trigger.depend } };
}

// workflow:rules decides whether the pipeline exists at all, and may add variables.
async function evaluateWorkflow(
  config: ExpandedConfiguration,
  options: PlanOptions,
  globals: CiVariable[],
): Promise<{ included: boolean; variables: CiVariable[] }> {
  const workflow = config.content.workflow;
  if (!isPlainMap(workflow) || workflow.rules === undefined) return { included: true, variables: [] };
  const outcome = await evaluateJobRules(
    { rules: workflow.rules },
    rulesContext(options, variableMap(globals, options.pipelineVariables)),
    {
      location: config.sources.get(pathKey(['workflow'])),
      job: 'workflow',
    },
  );
  return outcome.included
    ? { included: true, variables: outcome.variables }
    : { included: false, variables: [] };
}

async function planJob(
  definedAs: string,
  job: CiMap,
  config: ExpandedConfiguration,
  options: PlanOptions,
  globals: CiVariable[],
  notes: string[],
): Promise<PlannedJob[]> {
  const where: Where = { location: config.sources.get(pathKey([definedAs])), job: definedAs };
  if (job.script === undefined) throw new CiConfigError('CI_SCRIPT_MISSING', 'job has no script', where);
  checkJobEntry(job, where);
  const inherits = inheritsVariable(job);
  const ownVariables = normaliseVariables(job.variables, where);
  const planned: PlannedJob[] = [];
  for (const instance of expandParallel(definedAs, job.parallel, where)) {
    const baseVariables = [
      ...globals.filter((variable) => inherits(variable.key)),
      ...ownVariables,
      ...instance.variables,
    ];
    const context = rulesContext(options, variableMap(baseVariables, options.pipelineVariables));
    const rules = await evaluateJobRules(job, context, { ...where, job: instance.name });
    if (!rules.included) continue;
    const when = rules.when ?? (job.when as JobWhen | undefined) ?? 'on_success';
    if (when === 'never') continue;
    const jobWhere = { ...where, job: instance.name };
    planned.push({
      name: instance.name,
      definedAs,
      stage: jobStage(job),
      when,
      ...(job.start_in !== undefined || rules.startIn !== undefined
        ? { startIn: parseTimeout(rules.startIn ?? job.start_in, jobWhere) }
        : {}),
      allowFailure:
        rules.allowFailure ??
        (job.allow_failure === undefined && when === 'manual' && job.rules === undefined
          ? { allowed: true, exitCodes: [] }
          : parseAllowFailure(job.allow_failure, jobWhere)),
      ...optionalNeeds(rules.needs ?? job.needs, jobWhere, notes),
      ...(job.dependencies !== undefined && job.dependencies !== null
        ? { dependencies: stringList(job.dependencies) }
        : {}),
      variables: [
        ...baseVariables,
        ...rules.variables,
        ...environmentVariables(
          job.environment,
          variableMap(baseVariables, options.pipelineVariables),
          jobWhere,
        ),
      ],
      ...optional('coverage', parseCoverage(job.coverage, jobWhere)),
      beforeScript: scriptLines(job.before_script, 'before_script', jobWhere),
      script: scriptLines(job.script, 'script', jobWhere),
      afterScript: scriptLines(job.after_script, 'after_script', jobWhere),
      ...optional('image', parseImage(job.image, jobWhere)),
      services: parseServices(job.services, jobWhere),
      ...optional('artifacts', parseArtifacts(job.artifacts, jobWhere)),
      cache: parseCache(job.cache, jobWhere),
      ...optional('timeout', parseTimeout(job.timeout, jobWhere)),
      retry: parseRetry(job.retry, jobWhere),
      hooks:
        isPlainMap(job.hooks) && job.hooks.pre_get_sources_script !== undefined
          ? {
              preGetSourcesScript: scriptLines(
                job.hooks.pre_get_sources_script,
                'hooks:pre_get_sources_script',
                jobWhere,
              ),
            }
          : {},
      tags: stringList(job.tags),
      ...optional('node', instance.node),
      ...optional('location', where.location),
    });
  }
  return planned;
}

function optionalNeeds(
  value: Parameters<typeof parseNeeds>[0],
  where: Where,
  notes: string[],
): { needs?: PlannedJob['needs'] } {
  const parsed = parseNeeds(value, where);
  if (parsed === undefined) return {};
  for (const external of parsed.external)
    notes.push(`Job "${where.job}": needs ${external}, which tart exec cannot fetch; skipped locally.`);
  return { needs: parsed.needs };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function rulesContext(options: PlanOptions, variables: Map<string, string>): RulesContext {
  return {
    variables,
    listFiles: () => options.files.list(),
    changedFiles: options.changedFiles ?? (async () => undefined),
  };
}

// As GitLab's YamlProcessor: every job's stage must be declared, whether or not its rules keep it
// (a template's job in an undeclared stage is a configuration error even when it would not run).
function checkStageDeclared(name: string, job: CiMap, config: ExpandedConfiguration): void {
  const stage = jobStage(job);
  if (config.stages.includes(stage)) return;
  throw new CiConfigError(
    'CI_UNKNOWN_STAGE',
    `stage "${stage}" is not defined in stages (${config.stages.join(', ')})`,
    { location: config.sources.get(pathKey([name])), job: name },
  );
}

// `type:` is GitLab's deprecated alias of `stage:`, used only when `stage:` is not set.
function jobStage(job: CiMap): string {
  if (typeof job.stage === 'string') return job.stage;
  return typeof job.type === 'string' ? job.type : 'test';
}

// Stage order, file order within a stage; jobs in unknown stages are left for checkPipeline to name.
function orderByStage(jobs: PlannedJob[], stages: string[]): PlannedJob[] {
  const rank = (job: PlannedJob) => (stages.includes(job.stage) ? stages.indexOf(job.stage) : stages.length);
  return jobs
    .map((job, index) => ({ job, index }))
    .sort((a, b) => rank(a.job) - rank(b.job) || a.index - b.index)
    .map(({ job }) => job);
}
