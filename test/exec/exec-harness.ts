// Runs `tart exec` against a throw-away copy of a project with the real engine and shell executor,
// collecting what a user would see.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostDefaults } from '../../src/config/paths.js';
import { execExecutorFactory } from '../../src/exec/executors.js';
import { runExec, type RunExecResult } from '../../src/exec/run-exec.js';
import { runJob } from '../../src/job/run-job.js';
import { git } from './git-helpers.js';

export interface ExecRun extends RunExecResult {
  stdout: string;
  stderr: string;
}

export class ExecSandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'tart-exec-e2e-'));
  readonly project = join(this.root, 'project');

  /** Copies `source` (a folder) into the sandbox and commits it on branch main. */
  constructor(source: string) {
    cpSync(source, this.project, { recursive: true });
    git(this.project, 'init', '-q', '-b', 'main');
    git(this.project, 'add', '-A');
    git(this.project, 'commit', '-q', '-m', 'Sample project');
  }

  async exec(
    options: {
      jobs?: string[];
      withNeeds?: boolean;
      dirty?: boolean;
      concurrency?: number;
      variables?: Array<{ key: string; value: string }>;
      /** Where the jobs run (default shell); Tart rewrites the loopback server URL for qemu guests. */
      executor?: 'shell' | 'qemu';
    } = {},
  ): Promise<ExecRun> {
    let stdout = '';
    let stderr = '';
    const result = await runExec({
      cwd: this.project,
      file: '.gitlab-ci.yml',
      jobs: options.jobs ?? [],
      withNeeds: options.withNeeds ?? false,
      dirty: options.dirty ?? false,
      concurrency: options.concurrency ?? 2,
      variables: options.variables ?? [],
      executorForSlot: execExecutorFactory({
        kind: options.executor ?? 'shell',
        buildsRoot: join(this.root, 'builds'),
        defaults: hostDefaults(),
      }),
      serverHost: '127.0.0.1',
      cacheDir: join(this.root, 'cache'),
      version: '0.1.0',
      streams: {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        isTTY: false,
      },
      runJob: (jobOptions) => runJob(jobOptions),
      tempRoot: this.root,
    });
    return { ...result, stdout, stderr };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
