// The first lines of every job trace (protocol reference §7.3, job execution reference §9.4).
import type { RunnerSettings } from './types.js';
import { shortRunnerToken } from './variables.js';

/**
 * "Running with tart VERSION (REVISION)", "  on NAME SHORT_TOKEN[, system ID: ID]" and, when some
 * flag differs from its default, "  feature flags: FF_X:true, …" (`featureFlags`, see feature-flags.ts).
 */
export function headerLines(runner: RunnerSettings, featureFlags = ''): string[] {
  const lines = [`Running with tart ${runner.version} (${runner.revision ?? 'unknown'})`];
  const token = shortRunnerToken(runner.token);
  // gitlab-runner skips the "on" line when the short token is empty.
  if (token !== '') {
    const systemId = runner.systemId === undefined ? '' : `, system ID: ${runner.systemId}`;
    lines.push(`  on ${runner.name} ${token}${systemId}`);
  }
  if (featureFlags !== '') lines.push(`  feature flags: ${featureFlags}`);
  return lines;
}
