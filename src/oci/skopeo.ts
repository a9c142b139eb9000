// The registry transport: Debian's skopeo, which handles token and basic auth, TLS, mirrors and
// retries. Credentials reach it only as a 0600 auth file (never argv); its stderr is scrubbed of
// nothing secret because skopeo never prints credentials.
import type { CommandRunner } from '../image/spawn.js';
import { classifyPullError, ImagePullError } from './pull-errors.js';

export interface RegistryAccess {
  /** 0600 containers-auth.json for this pull; absent = anonymous. */
  authFile?: string;
  /** false for plain-HTTP (loopback or insecure_registries) registries: skopeo may then fall back to http. */
  tlsVerify: boolean;
  signal?: AbortSignal;
}

const RETRY_TIMES = '2';

function accessArgs(access: RegistryAccess, prefix: '' | 'src-'): string[] {
  const args = [`--${prefix}tls-verify=${access.tlsVerify ? 'true' : 'false'}`];
  if (access.authFile) args.push(`--${prefix}authfile`, access.authFile);
  else args.push(`--${prefix}no-creds`);
  return args;
}

/** The raw manifest or index bytes at `reference` (`host/repo:tag` or `host/repo@sha256:…`). */
export async function inspectRawManifest(run: CommandRunner, reference: string, access: RegistryAccess): Promise<Buffer> {
  const args = ['inspect', '--raw', '--retry-times', RETRY_TIMES, ...accessArgs(access, ''), `docker://${reference}`];
  const result = await run({ command: 'skopeo', args: ['--insecure-policy', ...args], env: skopeoEnv(), signal: access.signal });
  if (result.exitCode !== 0) throw skopeoFailure(reference, result.stderr);
  return result.stdout;
}

/**
 * Copies one platform manifest (by digest) into the OCI layout `layoutDir` under `tag`, with its
 * blobs in the shared `blobDir` so a blob already there is not downloaded again.
 */
export async function copyToLayout(
  run: CommandRunner,
  options: { reference: string; layoutDir: string; tag: string; blobDir: string; access: RegistryAccess },
): Promise<void> {
  const args = [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--retry-times',
    RETRY_TIMES,
    ...accessArgs(options.access, 'src-'),
    '--dest-shared-blob-dir',
    options.blobDir,
    `docker://${options.reference}`,
    `oci:${options.layoutDir}:${options.tag}`,
  ];
  const result = await run({ command: 'skopeo', args, env: skopeoEnv(), signal: options.access.signal });
  if (result.exitCode !== 0) throw skopeoFailure(options.reference, result.stderr);
}

// No HOME/XDG credentials leak in: skopeo reads only the auth file it is given.
function skopeoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', XDG_RUNTIME_DIR: '/nonexistent' };
  for (const key of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'TMPDIR']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

function skopeoFailure(reference: string, stderr: string): ImagePullError {
  const text = stderr.trim().split('\n').filter(Boolean).pop() ?? 'skopeo failed';
  const message = text.replace(/^time="[^"]*" level=\w+ msg="?/, '').replace(/"$/, '');
  const { code, reason } = classifyPullError(message);
  return new ImagePullError(code, `failed to pull ${reference}: ${message}`, reason);
}
