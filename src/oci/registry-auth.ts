// Registry credentials, found as gitlab-runner finds them (helpers/docker/auth/auth.go; docker
// executor reference §3): DOCKER_AUTH_CONFIG (job variable, or the runner's `environment`), then
// the runner user's ~/.docker/config.json, then the job payload's `credentials[]` of type registry
// (GitLab's container registry and dependency proxy, with the job's token). Entries match by registry path, walking up from the
// image's full path to its host. A document's `credsStore` and `credHelpers` run Docker credential
// helpers (`docker-credential-<name>` list/get) on the runner host. The secret only ever goes into a
// 0600 file for skopeo.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { spawnCommand, type CommandRunner } from '../image/spawn.js';

export interface RegistryCredentials {
  /** Where they came from, as the trace names it: `$DOCKER_AUTH_CONFIG` or the file path. */
  source: string;
  username: string;
  password: string;
}

export interface CredentialSources {
  /** The value of DOCKER_AUTH_CONFIG for this job (job variables win over runner environment). */
  dockerAuthConfig?: string;
  /** The runner user's home; default os.homedir(). */
  home?: string;
  /** The payload's `credentials[]` (only `type: registry` entries are used). */
  jobCredentials?: ReadonlyArray<{ type: string; url: string; username: string; password: string }>;
  /** Runs credential helpers (tests replace it); default: src/process. */
  run?: CommandRunner;
  /** The helpers' environment (PATH finds them); default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  /** `Failed to resolve credentials from …` warnings, for the trace. */
  warnings: string[];
}

type AuthEntries = Map<string, { username: string; password: string }>;

/** How the trace names the payload's credentials (gitlab-runner's wording). */
export const JOB_PAYLOAD_SOURCE = 'job payload (GitLab Registry)';

/** Finds the credentials for `image` (the string as written). */
export async function findRegistryCredentials(image: string, sources: CredentialSources): Promise<CredentialLookup> {
  const warnings: string[] = [];
  const documents: { source: string; text: string | undefined }[] = [
    { source: '$DOCKER_AUTH_CONFIG', text: sources.dockerAuthConfig },
  ];
  const configFile = join(sources.home ?? homedir(), '.docker', 'config.json');
  documents.push({ source: configFile, text: await readFile(configFile, 'utf8').catch(() => undefined) });
  const merged = new Map<string, RegistryCredentials>();
  for (const { source, text } of documents) {
    if (text === undefined || text.trim() === '') continue;
    let entries: AuthEntries;
    try {
      entries = await readAuthDocument(parseAuthDocument(text), sources);
    } catch (error) {
      warnings.push(`Failed to resolve credentials from ${source}: ${(error as Error).message}. Credentials from this source will not be used.`);
      continue;
    }
    for (const [path, entry] of entries) if (!merged.has(path)) merged.set(path, { source, ...entry });
  }
  // A path an earlier source set is kept, as gitlab-runner keeps it.
  for (const entry of sources.jobCredentials ?? []) {
    if (entry.type !== 'registry' || entry.username === '') continue;
    const path = registryPathOfKey(entry.url);
    if (!merged.has(path)) merged.set(path, { source: JOB_PAYLOAD_SOURCE, username: entry.username, password: entry.password });
  }
  for (const path of lookupPaths(image)) {
    const found = merged.get(path);
    if (found) return { credentials: found, warnings };
  }
  return { warnings };
}

interface AuthDocument {
  auths: AuthEntries;
  credsStore?: string;
  /** Registry key → helper name. */
  credHelpers: Map<string, string>;
}

// {"auths": {"<key>": {"auth": base64(user:pass)} | {"username","password"}}, "credsStore": "<name>",
//  "credHelpers": {"<registry>": "<name>"}}
function parseAuthDocument(text: string): AuthDocument {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const { auths, credsStore, credHelpers } = (document ?? {}) as { auths?: unknown; credsStore?: unknown; credHelpers?: unknown };
  const entries: AuthEntries = new Map();
  if (auths !== undefined) {
    if (typeof auths !== 'object' || auths === null) throw new Error('"auths" is not an object');
    for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
      const entry = decodeEntry(value);
      if (entry) entries.set(registryPathOfKey(key), entry);
    }
  }
  const helpers = new Map<string, string>();
  if (credHelpers !== undefined) {
    if (typeof credHelpers !== 'object' || credHelpers === null) throw new Error('"credHelpers" is not an object');
    for (const [key, name] of Object.entries(credHelpers as Record<string, unknown>)) {
      if (typeof name === 'string' && name !== '') helpers.set(key, helperName(name));
    }
  }
  if (credsStore !== undefined && typeof credsStore !== 'string') throw new Error('"credsStore" is not a string');
  return { auths: entries, ...(credsStore ? { credsStore: helperName(credsStore) } : {}), credHelpers: helpers };
}

// A helper name is a suffix of a command name, never a path (gitlab-runner's traversal guard).
function helperName(name: string): string {
  if (/[/\\]/.test(name) || name === '.' || name === '..') throw new Error(`credential helper name "${name}" contains a path separator`);
  return name;
}

// As docker/cli reads a config file: the credsStore's entries override `auths`, and each
// credHelpers entry overrides both.
async function readAuthDocument(document: AuthDocument, sources: CredentialSources): Promise<AuthEntries> {
  const entries = new Map(document.auths);
  if (document.credsStore) {
    const listed = await runHelper(document.credsStore, 'list', '', sources);
    const servers = Object.keys(parseHelperJson(listed, document.credsStore) as Record<string, unknown>);
    for (const server of servers) {
      const entry = await helperGet(document.credsStore, server, sources);
      if (entry) entries.set(registryPathOfKey(server), entry);
    }
  }
  for (const [registry, helper] of document.credHelpers) {
    const entry = await helperGet(helper, registry, sources);
    if (entry) entries.set(registryPathOfKey(registry), entry);
  }
  return entries;
}

// `docker-credential-<helper> get` with the server on stdin: {"ServerURL","Username","Secret"};
// "credentials not found" is no entry, not an error.
async function helperGet(helper: string, server: string, sources: CredentialSources): Promise<{ username: string; password: string } | undefined> {
  let output: string;
  try {
    output = await runHelper(helper, 'get', server, sources);
  } catch (error) {
    if (/credentials not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
  const { Username, Secret } = parseHelperJson(output, helper) as { Username?: unknown; Secret?: unknown };
  if (typeof Username !== 'string' || typeof Secret !== 'string' || Secret === '') return undefined;
  return { username: Username, password: Secret };
}

async function runHelper(helper: string, verb: 'get' | 'list', input: string, sources: CredentialSources): Promise<string> {
  const command = `docker-credential-${helper}`;
  let result;
  try {
    result = await (sources.run ?? spawnCommand)({ command, args: [verb], input, env: sources.env ?? process.env });
  } catch (error) {
    throw new Error(`${command} ${verb} did not run: ${(error as Error).message}`, { cause: error });
  }
  // A helper's stderr and stdout may hold a secret on failure: name only the first line of stdout.
  if (result.exitCode !== 0) throw new Error(`${command} ${verb} failed: ${result.stdout.toString('utf8').split('\n')[0]!.slice(0, 200).trim()}`);
  return result.stdout.toString('utf8');
}

function parseHelperJson(text: string, helper: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // reported below
  }
  throw new Error(`docker-credential-${helper} printed no JSON object`);
}

function decodeEntry(value: unknown): { username: string; password: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { auth, username, password } = value as Record<string, unknown>;
  if (typeof auth === 'string' && auth !== '') {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new Error('an "auth" value is not base64 of user:password');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof username === 'string' && username !== '' && typeof password === 'string') return { username, password };
  return undefined;
}

// "https://index.docker.io/v1/" -> "docker.io"; "host:5000/ns/" -> "host:5000/ns".
function registryPathOfKey(key: string): string {
  const scheme = /^https?:\/\//i.exec(key);
  if (scheme) {
    const host = key.slice(scheme[0].length).split('/')[0]!.toLowerCase();
    return host === 'index.docker.io' ? 'docker.io' : host;
  }
  let path = key.replace(/\/+$/, '');
  const lastSlash = path.lastIndexOf('/');
  const colon = path.lastIndexOf(':');
  if (lastSlash >= 0 && colon > lastSlash) path = path.slice(0, colon);
  return lowerHost(path);
}

/** The registry paths tried for an image, most specific first (no `library/`, port kept). */
export function lookupPaths(image: string): string[] {
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  let path = colon >= 0 ? image.slice(0, colon) : image;
  const first = path.split('/')[0]!;
  const hasHost = path.includes('/') && (first === 'localhost' || /[.:]/.test(first));
  if (!hasHost) path = `docker.io/${path}`;
  path = lowerHost(path.replace(/^index\.docker\.io\//, 'docker.io/'));
  const paths: string[] = [];
  for (let current = path; ; ) {
    paths.push(current);
    const cut = current.lastIndexOf('/');
    if (cut < 0) break;
    current = current.slice(0, cut);
  }
  return paths;
}

function lowerHost(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path.toLowerCase() : path.slice(0, slash).toLowerCase() + path.slice(slash);
}

/** The containers-auth.json document skopeo reads, holding only this registry's entry. */
export function skopeoAuthDocument(registry: string, credentials: RegistryCredentials): string {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return JSON.stringify({ auths: { [registry]: { auth } } });
}
