// `tart exec` through commander, in-process, the way a user types it.
import { Command } from 'commander';
import { registerExecCommand } from '../../src/cli/commands/exec.js';
import { attachContext, createCliContext } from '../../src/cli/context.js';
import { executeProgram } from '../../src/cli/main.js';
import { currentHost, type HostFacts } from '../../src/config/paths.js';

export interface TartRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `host` overrides the user, e.g. a non-root uid and a temporary home for the default state dirs. */
export async function tart(args: string[], host?: Partial<HostFacts>): Promise<TartRun> {
  let stdout = '';
  let stderr = '';
  const context = createCliContext(
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
    },
    { ...currentHost(), env: {}, ...host },
  );
  const program = new Command('tart')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  attachContext(program, context);
  registerExecCommand(program);
  const code = await executeProgram(program, args, context);
  return { code, stdout, stderr };
}
