// The parts of an OCI image config a job uses (docker executor reference §4, §5): Env, User,
// Entrypoint, Cmd, WorkingDir, ExposedPorts, Volumes. Cmd is ignored for the job's own image, as
// gitlab-runner ignores it for the build container; services run it.

export interface ImageRuntimeConfig {
  env: string[];
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  /** The EXPOSEd tcp ports (a range counts by its first port), sorted, at most 20 (§5.5). */
  exposedTcpPorts: number[];
  /** The VOLUMEs, sorted: each gets a fresh volume, as Docker gives a container anonymous ones. */
  volumes?: string[];
}

const MAX_EXPOSED_PORTS = 20;

export function readRuntimeConfig(configJson: Buffer | string): ImageRuntimeConfig {
  const document = JSON.parse(configJson.toString()) as { config?: Record<string, unknown> };
  const config = document.config ?? {};
  const strings = (value: unknown): string[] | undefined =>
    Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  const runtime: ImageRuntimeConfig = { env: strings(config.Env) ?? [], exposedTcpPorts: exposedTcpPorts(config.ExposedPorts) };
  if (typeof config.User === 'string' && config.User !== '') runtime.user = config.User;
  const entrypoint = strings(config.Entrypoint);
  if (entrypoint && entrypoint.length > 0) runtime.entrypoint = entrypoint;
  const cmd = strings(config.Cmd);
  if (cmd && cmd.length > 0) runtime.cmd = cmd;
  if (typeof config.WorkingDir === 'string' && config.WorkingDir !== '') runtime.workingDir = config.WorkingDir;
  const volumes = typeof config.Volumes === 'object' && config.Volumes !== null ? Object.keys(config.Volumes).sort() : [];
  if (volumes.length > 0) runtime.volumes = volumes;
  return runtime;
}

/** Entrypoint for the job: `image:entrypoint` overrides the image's; `[""]` (or []) clears it. */
export function effectiveEntrypoint(image: ImageRuntimeConfig, override: readonly string[] | undefined): string[] {
  if (override === undefined) return image.entrypoint ?? [];
  if (override.length === 0 || (override.length === 1 && override[0] === '')) return [];
  return [...override];
}

// `{"80/tcp": {}, "53/udp": {}, "8000-8010": {}}`: the protocol defaults to tcp.
function exposedTcpPorts(value: unknown): number[] {
  if (typeof value !== 'object' || value === null) return [];
  const ports = new Set<number>();
  for (const key of Object.keys(value)) {
    const match = /^(\d+)(?:-\d+)?(?:\/(\w+))?$/.exec(key);
    if (!match || (match[2] ?? 'tcp').toLowerCase() !== 'tcp') continue;
    const port = Number(match[1]);
    if (port > 0 && port < 65536) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b).slice(0, MAX_EXPOSED_PORTS);
}
