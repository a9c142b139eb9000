// The planned pipeline: what `tart exec` runs and what `--list`/tests read.
import type { SourceLocation } from './errors.js';

export interface CiVariable {
  key: string;
  value: string;
  /** `expand: false`: the value's `$` references are kept literally. */
  raw?: boolean;
}

export type JobWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never';

export interface NeedSpec {
  job: string;
  artifacts: boolean;
  optional: boolean;
  /** Named through needs:parallel:matrix: it must match one matrix job exactly. */
  matrix?: boolean;
}

export interface AllowFailure {
  allowed: boolean;
  /** With `allow_failure: exit_codes`, only these exit codes are allowed to fail. */
  exitCodes: number[];
}

export interface RetryPolicy {
  max: number;
  when: string[];
}

export interface ArtifactsSpec {
  name?: string;
  paths: string[];
  exclude: string[];
  untracked?: boolean;
  when: 'on_success' | 'on_failure' | 'always';
  expireIn?: string;
  /** Report type → paths, e.g. { junit: ["report.xml"] }. */
  reports: Record<string, string[]>;
}

export interface CacheSpec {
  /** A literal key, or `key: { files, prefix }` which the payload builder hashes. */
  key: string | { files: string[]; prefix?: string };
  paths: string[];
  untracked?: boolean;
  policy: 'pull-push' | 'pull' | 'push';
  when: 'on_success' | 'on_failure' | 'always';
  fallbackKeys: string[];
}

export interface ImageSpec {
  name: string;
  entrypoint?: string[];
  /** `pull_policy`, as a list. */
  pullPolicy?: string[];
  /** `docker:` (`user`, a name or a number, and `platform`), as GitLab passes on in `executor_opts`. */
  docker?: { user?: string; platform?: string };
}

export interface ServiceSpec extends ImageSpec {
  alias?: string;
  command?: string[];
  /** `services:variables`, in file order. */
  variables?: Array<{ key: string; value: string }>;
}

export interface PlannedJob {
  /** Full name as GitLab shows it: "test: [node, 20]" or "rspec 2/3" for parallel jobs. */
  name: string;
  /** The name in the file, before parallel expansion. */
  definedAs: string;
  stage: string;
  when: JobWhen;
  startIn?: number;
  allowFailure: AllowFailure;
  /** Absent: the job waits for all earlier stages. Present (even empty): the `needs` DAG. */
  needs?: NeedSpec[];
  /** Absent: artifacts of all earlier jobs (or of `needs`) are downloaded. */
  dependencies?: string[];
  /** Global then job variables (then matrix and rules variables), in order; later wins. */
  variables: CiVariable[];
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  image?: ImageSpec;
  services: ServiceSpec[];
  artifacts?: ArtifactsSpec;
  cache: CacheSpec[];
  /** Seconds; absent: the project default. */
  timeout?: number;
  retry: RetryPolicy;
  hooks: { preGetSourcesScript?: string[] };
  tags: string[];
  /** A trigger job's child pipeline; `depend`: the trigger takes the child's result. */
  child?: { plan: PipelinePlan; depend: boolean };
  /** `coverage`: the regex (as written, RE2) that reads the coverage figure from the log. */
  coverage?: string;
  /** `parallel`: this job's 1-based index and the total. */
  node?: { index: number; total: number };
  location?: SourceLocation;
}

export interface PipelinePlan {
  stages: string[];
  /** Jobs that will be created, in stage order then file order. */
  jobs: PlannedJob[];
  /** Files read, main file first. */
  files: string[];
  /** Jobs tart exec cannot run (trigger, run:), with why. */
  ignored?: Array<{ name: string; reason: string }>;
  /** What tart exec leaves out and says so (cross-project needs, multi-project triggers). */
  notes?: string[];
  /** Schema complaints about a file GitLab accepts: shown, not fatal. */
  warnings?: string[];
}
