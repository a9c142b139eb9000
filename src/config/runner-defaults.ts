// A new [[runners]] entry (for `tart register`), built and validated by the same schema as the file.
import { UserError } from '../errors.js';
import { decodeTable, type HostDefaults, type Issue } from './fields.js';
import { hostDefaults } from './paths.js';
import { runnerShape } from './schema.js';
import type { RunnerConfig } from './types.js';

/** `values` uses config.toml key names (`url`, `token`, `builds_dir`…); absent keys get their defaults. */
export function newRunnerConfig(
  values: Record<string, unknown>,
  defaults: HostDefaults = hostDefaults(),
): RunnerConfig {
  const issues: Issue[] = [];
  const defined = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  const runner = decodeTable(runnerShape, defined, '', { issues, defaults });
  const first = issues[0];
  if (first !== undefined) {
    const message = issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
    throw new UserError(first.code, message, { details: { issues } });
  }
  return runner;
}
