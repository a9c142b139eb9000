// The parts of an OCI image config a job uses (docker executor reference §4): Env, User,
// Entrypoint, WorkingDir. Cmd is ignored, as gitlab-runner ignores it for the build container.

export interface ImageRuntimeConfig {
  env: string[];
  user?: string;
  entrypoint?: string[];
  workingDir?: string;
}

export function readRuntimeConfig(configJson: Buffer | string): ImageRuntimeConfig {
  const document = JSON.parse(configJson.toString()) as { config?: Record<string, unknown> };
  const config = document.config ?? {};
  const strings = (value: unknown): string[] | undefined =>
    Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  const runtime: ImageRuntimeConfig = { env: strings(config.Env) ?? [] };
  if (typeof config.User === 'string' && config.User !== '') runtime.user = config.User;
  const entrypoint = strings(config.Entrypoint);
  if (entrypoint && entrypoint.length > 0) runtime.entrypoint = entrypoint;
  if (typeof config.WorkingDir === 'string' && config.WorkingDir !== '') runtime.workingDir = config.WorkingDir;
  return runtime;
}

/** Entrypoint for the job: `image:entrypoint` overrides the image's; `[""]` (or []) clears it. */
export function effectiveEntrypoint(image: ImageRuntimeConfig, override: readonly string[] | undefined): string[] {
  if (override === undefined) return image.entrypoint ?? [];
  if (override.length === 0 || (override.length === 1 && override[0] === '')) return [];
  return [...override];
}
