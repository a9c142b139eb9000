// Runs the CLI in-process against a temp config directory and captures what a user would see.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  dir: string;
  configPath: string;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  cleanup(): Promise<void>;
}

export async function createSandbox(): Promise<CliSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-cli-'));
  const configPath = join(dir, 'tart', 'config.toml');
  return {
    dir,
    configPath,
    async run(args, env = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--config', configPath, ...args], {
        stdout: { write: (chunk: string) => (stdout += chunk) },
        stderr: { write: (chunk: string) => (stderr += chunk) },
        env: { HOME: dir, ...env },
      });
      return { code, stdout, stderr };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
