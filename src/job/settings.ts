// Job settings the engine reads from variables (job execution reference §1.3, §6, §7), parsed
// once, with gitlab-runner's warnings for bad values. Pure: `lookup` is "last occurrence wins".
import { DEFAULT_JOB_TIMEOUT_SECONDS } from '../model/defaults.js';
import { formatGoDuration, parseGoDuration } from '../model/go-duration.js';

export interface EngineSettings {
  getSourcesAttempts: number;
  restoreCacheAttempts: number;
  artifactDownloadAttempts: number;
  executorJobSectionAttempts: number;
  /** after_script's own timeout (RUNNER_AFTER_SCRIPT_TIMEOUT / AFTER_SCRIPT_TIMEOUT), default 5 min. */
  afterScriptTimeoutMs: number;
  /** RUNNER_SCRIPT_TIMEOUT: bounds all step_* stages together; undefined = only the job timeout. */
  scriptTimeoutMs: number | undefined;
  /** AFTER_SCRIPT_IGNORE_ERRORS (default true). */
  afterScriptIgnoreErrors: boolean;
  /** Setting problems, printed as one WARNING before the executor is prepared. */
  warnings: string[];
}

const DEFAULT_AFTER_SCRIPT_TIMEOUT_MS = 5 * 60_000;
const MAX_ATTEMPTS = 10;

/** Reads the settings; `jobTimeoutMs` caps the script timeout. */
export function readEngineSettings(
  lookup: (key: string) => string | undefined,
  jobTimeoutMs: number,
): EngineSettings {
  const warnings: string[] = [];
  const attempts = (key: string): number => readAttempts(key, lookup(key), warnings);
  return {
    getSourcesAttempts: attempts('GET_SOURCES_ATTEMPTS'),
    restoreCacheAttempts: attempts('RESTORE_CACHE_ATTEMPTS'),
    artifactDownloadAttempts: attempts('ARTIFACT_DOWNLOAD_ATTEMPTS'),
    executorJobSectionAttempts: attempts('EXECUTOR_JOB_SECTION_ATTEMPTS'),
    afterScriptTimeoutMs: readAfterScriptTimeout(lookup, warnings),
    scriptTimeoutMs: readScriptTimeout(lookup('RUNNER_SCRIPT_TIMEOUT'), jobTimeoutMs, warnings),
    afterScriptIgnoreErrors: lookup('AFTER_SCRIPT_IGNORE_ERRORS')?.trim().toLowerCase() !== 'false',
    warnings,
  };
}

// Default 1, clamped to [1, 10] (common/build_settings.go).
function readAttempts(key: string, raw: string | undefined, warnings: string[]): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const value = Number(raw.trim());
  if (!Number.isInteger(value)) {
    warnings.push(`${key}: expected int got "${raw}", using default value: 1`);
    return 1;
  }
  if (value >= 1 && value <= MAX_ATTEMPTS) return value;
  const clamped = Math.min(Math.max(value, 1), MAX_ATTEMPTS);
  warnings.push(`${key}: number of attempts out of the range [1, ${MAX_ATTEMPTS}], clamping to: ${clamped}`);
  return clamped;
}

function readAfterScriptTimeout(lookup: (key: string) => string | undefined, warnings: string[]): number {
  const key =
    lookup('RUNNER_AFTER_SCRIPT_TIMEOUT') !== undefined
      ? 'RUNNER_AFTER_SCRIPT_TIMEOUT'
      : 'AFTER_SCRIPT_TIMEOUT';
  const raw = lookup(key);
  if (raw === undefined || raw.trim() === '') return DEFAULT_AFTER_SCRIPT_TIMEOUT_MS;
  const ms = parseGoDuration(raw);
  if (ms === undefined || ms <= 0) {
    warnings.push(`Ignoring malformed ${key} timeout: ${raw}`);
    return DEFAULT_AFTER_SCRIPT_TIMEOUT_MS;
  }
  return ms;
}

function readScriptTimeout(
  raw: string | undefined,
  jobTimeoutMs: number,
  warnings: string[],
): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const ms = parseGoDuration(raw);
  if (ms === undefined) {
    warnings.push(`Ignoring malformed RUNNER_SCRIPT_TIMEOUT timeout: ${raw}`);
    return undefined;
  }
  if (ms < 0) {
    warnings.push(`Ignoring relative RUNNER_SCRIPT_TIMEOUT timeout: ${raw}`);
    return undefined;
  }
  if (ms > jobTimeoutMs) {
    warnings.push(`RUNNER_SCRIPT_TIMEOUT timeout: ${raw} is longer than job timeout. Setting to job timeout`);
    return jobTimeoutMs;
  }
  return ms;
}

/** Job timeout from runner_info.timeout seconds; ≤ 0 (or missing) means the 2-hour default. */
export function jobTimeoutMs(timeoutSeconds: number | undefined): number {
  const seconds =
    timeoutSeconds !== undefined && Number.isFinite(timeoutSeconds) && timeoutSeconds > 0
      ? timeoutSeconds
      : DEFAULT_JOB_TIMEOUT_SECONDS;
  return seconds * 1000;
}

/** "execution took longer than 1h0m0s seconds" (sic, gitlab-runner's wording). */
export function jobTimeoutMessage(timeoutMs: number): string {
  return `execution took longer than ${formatGoDuration(timeoutMs)} seconds`;
}
