// Shared test helpers: a job payload, a script context, and real bash runs in temp dirs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobPayload, JobVariable } from '../../src/model/payload.js';
import type { RunnerSettings } from '../../src/job/types.js';
import { buildJobVariables } from '../../src/job/variables.js';
import type { ScriptContext } from '../../src/shell/stage-script.js';

export const JOB_TOKEN = 'glcbt-64_SeCrEtJobToken1234';

export function makeJob(
  overrides: Partial<JobPayload> = {},
  gitInfo: Partial<JobPayload['git_info']> = {},
): JobPayload {
  return {
    id: 77,
    token: JOB_TOKEN,
    allow_git_fetch: true,
    job_info: {
      id: 77,
      name: 'test',
      stage: 'test',
      project_id: 5,
      project_name: 'widget',
      project_full_path: 'acme/widget',
    },
    git_info: {
      repo_url: `https://gitlab-ci-token:${JOB_TOKEN}@gitlab.example.com/acme/widget.git`,
      ref: 'main',
      sha: '0123456789abcdef0123456789abcdef01234567',
      before_sha: '0000000000000000000000000000000000000000',
      ref_type: 'branch',
      refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
      depth: 20,
      ...gitInfo,
    },
    runner_info: { timeout: 3600 },
    variables: [{ key: 'CI_JOB_TOKEN', value: JOB_TOKEN, masked: true, public: false }],
    steps: [{ name: 'script', script: ['echo hello'] }],
    hooks: [],
    artifacts: [],
    cache: [],
    dependencies: [],
    features: {},
    ...overrides,
  };
}

export function makeRunner(overrides: Partial<RunnerSettings> = {}): RunnerSettings {
  return {
    name: 'test-runner',
    token: 'glrt-abcdefghijklmnop',
    environment: [],
    cacheDir: '/nonexistent-cache',
    version: '0.1.0',
    ...overrides,
  };
}

/** A context for `job` whose builds dir is `buildsDir`, with the full variable list. */
export function makeContext(input: {
  job: JobPayload;
  buildsDir: string;
  projectDir?: string;
  runner?: RunnerSettings;
  extra?: Partial<ScriptContext>;
}): ScriptContext {
  const runner = input.runner ?? makeRunner();
  const projectDir = input.projectDir ?? join(input.buildsDir, 'acme/widget');
  const variables: JobVariable[] = buildJobVariables({
    job: input.job,
    runner,
    executorName: 'shell',
    buildsDir: input.buildsDir,
    projectDir,
    disposable: true,
  });
  return {
    job: input.job,
    variables,
    buildsDir: input.buildsDir,
    projectDir,
    tmpDir: `${projectDir}.tmp`,
    runner,
    debugTrace: false,
    traceSections: false,
    executorName: 'shell',
    ...input.extra,
  };
}

export interface BashResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Feeds `script` to a fresh `bash` (own process group) on stdin, in `cwd`, with a minimal environment. */
export function runBash(
  script: string,
  options: { cwd: string; env?: Record<string, string>; onSpawn?: (pid: number) => void },
): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.cwd, LANG: 'C.UTF-8', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so a test can signal the whole tree it started.
      detached: true,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? 128 + (signal === 'SIGTERM' ? 15 : 9),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.end(script);
  });
}

/** A temp dir removed by the returned cleanup function. */
export function makeTempDir(prefix = 'tart-shell-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
