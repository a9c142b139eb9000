// What a service's process is, from its image config and the job, with Docker's and gitlab-runner's
// rules (docker executor reference §4.2, §5.3, §5.5): its argv (Entrypoint/Cmd with the payload's
// overrides), its environment (image Env under the job's public variables and the service's own)
// and the TCP ports its readiness is checked on. Pure, no I/O.
import { TartError } from '../errors.js';
import type { JobVariable } from '../model/payload.js';
import { expandVariables } from '../model/variables.js';
import type { ImageRuntimeConfig } from './image-config.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Docker's merge of a create request with the image (moby daemon/commit.go): a non-empty
 * `entrypoint` replaces the image's and drops its Cmd; `command` replaces the Cmd; an entrypoint
 * of exactly `[""]` is none. No argv at all is Docker's "No command specified".
 */
export function serviceArgv(image: ImageRuntimeConfig, overrides: { entrypoint?: readonly string[]; command?: readonly string[] }): string[] {
  const requestedEntrypoint = overrides.entrypoint && overrides.entrypoint.length > 0 ? overrides.entrypoint : undefined;
  const requestedCmd = overrides.command && overrides.command.length > 0 ? overrides.command : undefined;
  let entrypoint = requestedEntrypoint ?? image.entrypoint ?? [];
  const cmd = requestedEntrypoint ? (requestedCmd ?? []) : (requestedCmd ?? image.cmd ?? []);
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new TartError('SERVICE_NO_COMMAND', 'No command specified');
  return argv;
}

/**
 * The service's environment as KEY=value entries: the job's public and internal variables
 * (gitlab-runner's GetServiceVariables; secrets are not public), then the service's own
 * `variables` expanded against both (unless raw), the later of two equal keys winning in the
 * earlier's place; then every image Env entry whose key is still unset; PATH and HOME last (HOME
 * is the home of the user the service runs as, `/root` by default, as Docker sets it).
 */
export function serviceEnvironment(input: {
  imageEnv: readonly string[];
  jobVariables: readonly JobVariable[];
  serviceVariables: readonly JobVariable[];
  home?: string;
}): string[] {
  const forService = input.jobVariables.filter((variable) => variable.public === true);
  const lookup = [...input.jobVariables, ...input.serviceVariables];
  const own = input.serviceVariables.map((variable) =>
    variable.raw ? variable : { ...variable, value: expandVariables(variable.value, lookup) },
  );
  const values = new Map<string, string>();
  for (const { key, value } of [...forService, ...own]) values.set(key, value);
  for (const entry of input.imageEnv) {
    const key = keyOf(entry);
    if (!values.has(key)) values.set(key, entry.slice(key.length + 1));
  }
  const env = [...values].map(([key, value]) => `${key}=${value}`);
  if (!values.has('PATH')) env.push(DEFAULT_PATH);
  if (!values.has('HOME')) env.push(`HOME=${input.home ?? '/root'}`);
  return env;
}

/**
 * The ports the readiness check dials: HEALTHCHECK_TCP_PORT (any case) in the service's
 * environment alone, else the image's EXPOSEd tcp ports. Empty = the service has none.
 */
export function healthCheckPorts(env: readonly string[], image: ImageRuntimeConfig): number[] {
  const entry = env.find((candidate) => keyOf(candidate).toUpperCase() === 'HEALTHCHECK_TCP_PORT');
  if (entry === undefined) return image.exposedTcpPorts;
  const text = entry.slice(entry.indexOf('=') + 1);
  const port = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(port)) throw new TartError('SERVICE_HEALTHCHECK_PORT_INVALID', `invalid health check tcp port: ${text}`);
  return [port];
}

function keyOf(entry: string): string {
  const equals = entry.indexOf('=');
  return equals < 0 ? entry : entry.slice(0, equals);
}
