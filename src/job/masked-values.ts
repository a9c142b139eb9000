// What a job asks the masker to hide: its masked variables, its tokens and its token prefixes.
import type { JobPayload, JobVariable } from '../model/payload.js';

/**
 * The values to mask for a job: every `masked` variable (after expansion) plus the job token and
 * the dependency tokens, which are secrets whether or not GitLab flagged a variable for them.
 */
export function maskedValuesOf(job: JobPayload, variables: JobVariable[]): string[] {
  const values = variables.filter((variable) => variable.masked).map((variable) => variable.value);
  return [...values, job.token, ...job.dependencies.map((dependency) => dependency.token)].filter(
    (value) => value.trim() !== '',
  );
}

/** The extra token prefixes the job asks for (`features.token_mask_prefixes`). */
export function maskPrefixesOf(job: JobPayload): string[] {
  return job.features.token_mask_prefixes ?? [];
}
