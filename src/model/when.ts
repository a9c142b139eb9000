// Whether an artifacts/cache entry applies after the job's script: its `when` against the result.

/** `when`: on_success (default) and always run after success; on_failure and always after failure. */
export function whenMatches(when: string | undefined, jobSucceeded: boolean): boolean {
  const value = when === undefined || when === '' ? 'on_success' : when;
  return value === 'always' || value === (jobSucceeded ? 'on_success' : 'on_failure');
}
