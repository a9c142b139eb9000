// Configuration mistakes in a .gitlab-ci.yml: each names the file, line and job when known.
import { UserError } from '../errors.js';

export interface SourceLocation {
  /** Path relative to the project root, e.g. ".gitlab-ci.yml" or "ci/build.yml". */
  file: string;
  /** 1-based line number. */
  line: number;
}

/** Stable codes for everything `tart exec` rejects in a CI configuration. */
export type CiConfigErrorCode =
  | 'CI_YAML_SYNTAX'
  | 'CI_SCHEMA'
  | 'CI_INCLUDE_NOT_FOUND'
  | 'CI_INCLUDE_UNSUPPORTED'
  | 'CI_INCLUDE_LIMIT'
  | 'CI_INPUTS_INVALID'
  | 'CI_RULES_INVALID'
  | 'CI_EXTENDS_UNKNOWN'
  | 'CI_EXTENDS_CYCLE'
  | 'CI_EXTENDS_TOO_DEEP'
  | 'CI_REFERENCE_MISSING'
  | 'CI_REFERENCE_CYCLE'
  | 'CI_REFERENCE_TOO_DEEP'
  | 'CI_NEEDS_UNKNOWN_JOB'
  | 'CI_NEEDS_LATER_STAGE'
  | 'CI_NEEDS_CYCLE'
  | 'CI_DEPENDENCIES_UNKNOWN_JOB'
  | 'CI_UNKNOWN_STAGE'
  | 'CI_SCRIPT_MISSING'
  | 'CI_EXPRESSION_SYNTAX'
  | 'CI_DURATION_INVALID'
  | 'CI_INVALID_VALUE'
  | 'CI_NO_JOBS'
  | 'CI_UNKNOWN_JOB';

export class CiConfigError extends UserError {
  declare readonly code: CiConfigErrorCode;
  readonly location?: SourceLocation;
  readonly job?: string;

  constructor(
    code: CiConfigErrorCode,
    problem: string,
    where: { location?: SourceLocation; job?: string } = {},
  ) {
    super(code, formatMessage(problem, where), {
      details: { file: where.location?.file, line: where.location?.line, job: where.job },
    });
    this.name = 'CiConfigError';
    this.location = where.location;
    this.job = where.job;
  }
}

// "ci/build.yml:12: job "test": needs unknown job "bild"" — the shape compilers use, so editors can jump to it.
function formatMessage(problem: string, where: { location?: SourceLocation; job?: string }): string {
  const prefix = where.location ? `${where.location.file}:${where.location.line}: ` : '';
  const job = where.job === undefined ? '' : `job "${where.job}": `;
  return `${prefix}${job}${problem}`;
}
