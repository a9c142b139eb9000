// What the daemon derives from one [[runners]] entry: its limits, the settings a job gets, its
// TLS files, and the identity that survives a config reload (url and token, as gitlab-runner).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheConfig, RunnerConfig, TartConfig } from '../config/types.js';
import type { TlsFiles } from '../gitlab/http.js';
import type { RunnerSettings } from '../job/types.js';
import { DEFAULT_CHECK_INTERVAL_SECONDS } from '../model/defaults.js';
import type { SharedCacheSettings } from '../model/shared-cache.js';
import type { RunnerLimits } from './runner-state.js';

/** The facts about this daemon every job's settings carry. */
export interface DaemonFacts {
  tartVersion: string;
  tartRevision?: string;
  systemId: string;
  /** Where `cache_dir` defaults to when a runner has none. */
  defaultCacheDir: string;
}

/** Two entries with the same url and token are the same runner across a reload. */
export function runnerIdentity(config: RunnerConfig): string {
  return `${config.url}\n${config.token}`;
}

/** Pacing of job requests (ms); check_interval <= 0 means gitlab-runner's default. */
export function checkIntervalMs(config: TartConfig): number {
  return (config.checkInterval > 0 ? config.checkInterval : DEFAULT_CHECK_INTERVAL_SECONDS) * 1000;
}

export function runnerLimits(config: RunnerConfig): RunnerLimits {
  return {
    limit: config.limit,
    requestConcurrency: Math.max(1, config.requestConcurrency),
    unhealthyRequestsLimit: config.unhealthyRequestsLimit || 3,
    unhealthyIntervalMs: config.unhealthyIntervalMs || 60 * 60 * 1000,
  };
}

/** What the job engine reads of the runner. */
export function runnerSettings(config: RunnerConfig, facts: DaemonFacts): RunnerSettings {
  return {
    name: config.name,
    token: config.token,
    environment: config.environment,
    cacheDir: config.cacheDir ?? join(facts.defaultCacheDir, config.name || 'runner'),
    sharedCache: sharedCacheOf(config.cache),
    buildsDir: config.buildsDir,
    cloneUrl: config.cloneUrl,
    preGetSourcesScript: config.preGetSourcesScript ?? config.preCloneScript,
    postGetSourcesScript: config.postGetSourcesScript ?? config.postCloneScript,
    preBuildScript: config.preBuildScript,
    postBuildScript: config.postBuildScript,
    customBuildDir: config.customBuildDir?.enabled,
    debugTraceDisabled: config.debugTraceDisabled,
    featureFlags: config.featureFlags,
    version: facts.tartVersion,
    revision: facts.tartRevision,
    systemId: facts.systemId,
  };
}

/**
 * `[runners.cache]` with `Type = "s3"` and a bucket; otherwise undefined (the local cache only; the
 * config loader already named why). AuthenticationType defaults as gitlab-runner's: access-key when
 * ServerAddress, AccessKey and SecretKey are all set, else iam.
 */
export function sharedCacheOf(cache: CacheConfig | undefined): SharedCacheSettings | undefined {
  const s3 = cache?.s3;
  if (cache?.type !== 's3' || s3?.bucketName === undefined) return undefined;
  const hasKeys = s3.serverAddress !== undefined && s3.accessKey !== undefined && s3.secretKey !== undefined;
  return {
    type: 's3',
    path: cache.path,
    shared: cache.shared,
    maxUploadedArchiveSize: cache.maxUploadedArchiveSize,
    s3: {
      serverAddress: s3.serverAddress,
      bucketName: s3.bucketName,
      bucketLocation: s3.bucketLocation,
      insecure: s3.insecure,
      authenticationType: s3.authenticationType ?? (hasKeys ? 'access-key' : 'iam'),
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      sessionToken: s3.sessionToken,
      serverSideEncryption: s3.serverSideEncryption,
      serverSideEncryptionKeyId: s3.serverSideEncryptionKeyId,
      pathStyle: s3.pathStyle,
      dualStack: s3.dualStack,
    },
  };
}

/** tls-ca-file, tls-cert-file and tls-key-file, for API calls. */
export function tlsFilesOf(config: RunnerConfig): TlsFiles | undefined {
  const files: TlsFiles = {
    ...(config.tlsCaFile ? { caFile: config.tlsCaFile } : {}),
    ...(config.tlsCertFile && config.tlsKeyFile
      ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }
      : {}),
  };
  return Object.keys(files).length > 0 ? files : undefined;
}

/**
 * The PEM contents a job gets as CI_SERVER_TLS_CA_FILE / _CERT_FILE / _KEY_FILE, read when the job
 * starts (as gitlab-runner does), for an HTTPS GitLab only. Unreadable files are left out; the API
 * calls with the same files report the problem.
 */
export async function jobTlsFiles(config: RunnerConfig): Promise<RunnerSettings['tls']> {
  if (!config.url.startsWith('https://')) return undefined;
  const read = async (path: string | undefined) =>
    path ? await readFile(path, 'utf8').catch(() => undefined) : undefined;
  const [caChain, cert, key] = await Promise.all([
    read(config.tlsCaFile),
    read(config.tlsCertFile && config.tlsKeyFile ? config.tlsCertFile : undefined),
    read(config.tlsCertFile && config.tlsKeyFile ? config.tlsKeyFile : undefined),
  ]);
  const files = { ...(caChain ? { caChain } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  return Object.keys(files).length > 0 ? files : undefined;
}
