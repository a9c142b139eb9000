// What the job engine knows about the [[runners]] entry that took a job (data only).
import type { SharedCacheSettings } from './shared-cache.js';

/** What the engine needs to know about the [[runners]] entry that took the job. */
export interface RunnerSettings {
  /** `name` from config.toml, shown as "on NAME SHORT_TOKEN" in the header. */
  name: string;
  /** Full runner token; the engine derives the short token shown in the header. Never logged. */
  token: string;
  /** Runner `environment` entries, "KEY=VALUE". */
  environment: string[];
  /** Host directory holding the local cache store (`cache_dir`). */
  cacheDir: string;
  /** `[runners.cache]` with a type Tart speaks; absent = the local cache only. */
  sharedCache?: SharedCacheSettings;
  /** `builds_dir` override inside the environment; absent: the executor's default. */
  buildsDir?: string;
  /** `clone_url` override. */
  cloneUrl?: string;
  preGetSourcesScript?: string;
  postGetSourcesScript?: string;
  /** `pre_build_script` / `post_build_script`: run in each step_* shell around the step's lines. */
  preBuildScript?: string;
  postBuildScript?: string;
  /** `[runners.custom_build_dir] enabled`; undefined = the executor's default (VMs yes, shell no). */
  customBuildDir?: boolean;
  /** `debug_trace_disabled`: CI_DEBUG_TRACE has no effect. */
  debugTraceDisabled?: boolean;
  /** `[runners.feature_flags]`: beat the job's FF_* variables. */
  featureFlags?: Record<string, boolean>;
  /** PEM contents of tls-ca-file / tls-cert-file / tls-key-file (HTTPS GitLab only): the job's
   * CI_SERVER_TLS_* file variables, which git is configured to use. */
  tls?: { caChain?: string; cert?: string; key?: string };
  /** CI_CONCURRENT_ID: this job's slot among the runner's running jobs. */
  concurrentId?: number;
  /** CI_CONCURRENT_PROJECT_ID: its slot among the runner's running jobs of the same project; keeps
   * concurrent jobs of one project in different build dirs on a shared (non-disposable) host. */
  concurrentProjectId?: number;
  /** Tart's version for "Running with tart VERSION". */
  version: string;
  /** Build revision for "Running with tart VERSION (REVISION)"; absent: "unknown". */
  revision?: string;
  /** The runner's system ID (protocol §1.7), shown as ", system ID: …" in the header when known. */
  systemId?: string;
}
