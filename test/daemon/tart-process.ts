// `tart run` as a real process against the fake GitLab, for the tests of process-level behaviour.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';

const TART = resolve('bin/tart.js');
export const RUNNER_TOKEN = 'glrt-signals_test_token_01';

// A fake GitLab serving one project, and a config.toml with shell runners of the given names.
export async function setUp(options: {
  prefix: string;
  global: string[];
  runners: string[];
  /** Default RUNNER_TOKEN. */
  token?: string;
  /** Extra lines in every runner entry. */
  runnerLines?: string[];
  /** When the fake's copy of the token expires (ISO-8601). */
  tokenExpiresAt?: string;
}): Promise<{
  fake: FakeGitLab;
  configPath: string;
  cleanup: () => Promise<void>;
}> {
  const fake = await startFakeGitLab({ traceUpdateInterval: 1 });
  const repo: TestRepo = await createRepo({ files: { 'README.md': 'hi\n' } });
  fake.addProject({ path: 'acme/widget', repo });
  const token = options.token ?? RUNNER_TOKEN;
  fake.addRunner({ token, tokenExpiresAt: options.tokenExpiresAt ?? null });
  const dir = await mkdtemp(join(tmpdir(), options.prefix));
  const configPath = join(dir, 'config.toml');
  const runner = (name: string) =>
    [
      '[[runners]]',
      `name = "${name}"`,
      `url = "${fake.url}"`,
      `token = "${token}"`,
      'executor = "shell"',
      `builds_dir = "${join(dir, 'builds')}"`,
      `cache_dir = "${join(dir, 'cache')}"`,
      ...(options.runnerLines ?? []),
    ].join('\n');
  await writeFile(configPath, [...options.global, ...options.runners.map(runner)].join('\n'), {
    mode: 0o600,
  });
  return {
    fake,
    configPath,
    cleanup: async () => {
      await fake.close();
      await repo.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Every daemon a test file started; one still running after its tests (a failed assertion skipped
// its stop) is killed, so the file's process can exit instead of hanging the whole run.
const started = new Set<ChildProcess>();
after(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function startTart(
  configPath: string,
  command: string[] = ['run'],
  extraEnv: NodeJS.ProcessEnv = {},
): { process: ChildProcess; exitCode: Promise<number | null>; stderr: () => string; stdout: () => string } {
  const child = spawn(process.execPath, [TART, ...command, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv, TART_FROM_SOURCE: '1' },
  });
  started.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exitCode = once(child, 'exit').then(([code]) => code as number | null);
  return { process: child, exitCode, stderr: () => stderr, stdout: () => stdout };
}
