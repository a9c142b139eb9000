// Wall time of `tart exec` on examples/sample-project (build → test → package), with the shell
// executor and, when an image exists at the default location, with QEMU; the difference is the
// VM's cost. Each run uses a fresh copy of the project and empty cache/builds dirs.
//   npx tsx bench/exec-vm.ts [--runs N] [--concurrency N]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hostDefaults } from '../src/config/paths.js';
import { hasCode } from '../src/errors.js';
import { DEFAULT_SERVER_HOST, execExecutorFactory, type ExecExecutorKind } from '../src/exec/executors.js';
import { runExec } from '../src/exec/run-exec.js';
import { currentImageDir, defaultImageRoot } from '../src/image/layout.js';
import { runJob } from '../src/job/run-job.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '1' } },
});
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);

interface Figures {
  executor: ExecExecutorKind;
  wallMs: number;
  passed: boolean;
  jobs: Array<{ name: string; ms: number }>;
}

async function measure(kind: ExecExecutorKind): Promise<Figures> {
  const root = mkdtempSync(join(tmpdir(), 'tart-bench-exec-'));
  try {
    const project = join(root, 'project');
    cpSync(join(here, '..', 'examples', 'sample-project'), project, { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: project,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'bench',
          GIT_AUTHOR_EMAIL: 'bench@localhost',
          GIT_COMMITTER_NAME: 'bench',
          GIT_COMMITTER_EMAIL: 'bench@localhost',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'bench');
    const started = performance.now();
    const { result } = await runExec({
      cwd: project,
      file: '.gitlab-ci.yml',
      jobs: [],
      withNeeds: false,
      dirty: false,
      concurrency,
      variables: [],
      executorForSlot: execExecutorFactory({
        kind,
        buildsRoot: join(root, 'builds'),
        defaults: hostDefaults(),
      }),
      serverHost: DEFAULT_SERVER_HOST,
      cacheDir: join(root, 'cache'),
      version: 'bench',
      streams: { stdout: { write: () => true }, stderr: { write: () => true }, isTTY: false },
      runJob: (options) => runJob(options),
      tempRoot: root,
    });
    return {
      executor: kind,
      wallMs: performance.now() - started,
      passed: result.passed,
      jobs: result.jobs.map((job) => ({ name: job.name, ms: job.durationMs ?? 0 })),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function report(figures: Figures): void {
  const jobs = figures.jobs.map((job) => `${job.name} ${(job.ms / 1000).toFixed(2)}s`).join(', ');
  console.log(
    `${figures.executor.padEnd(6)} wall ${(figures.wallMs / 1000).toFixed(2)}s  ${figures.passed ? 'passed' : 'FAILED'}  (${jobs})`,
  );
}

const results: Figures[] = [];
for (let run = 0; run < runs; run++) results.push(await measure('shell'));
results.forEach(report);

const image = currentImageDir(defaultImageRoot());
if (!existsSync(image)) {
  console.log(`qemu   skipped: no image at ${image} (tart image build)`);
} else {
  try {
    const vm: Figures[] = [];
    for (let run = 0; run < runs; run++) vm.push(await measure('qemu'));
    vm.forEach(report);
    const mean = (list: Figures[]) => list.reduce((sum, figures) => sum + figures.wallMs, 0) / list.length;
    const jobCount = vm[0]?.jobs.length ?? 1;
    const extra = mean(vm) - mean(results);
    console.log(
      `VM cost: ${(extra / 1000).toFixed(2)}s per pipeline, ${(extra / jobCount / 1000).toFixed(2)}s per job (${jobCount} jobs, concurrency ${concurrency})`,
    );
  } catch (error) {
    if (hasCode(error, 'EXECUTOR_UNAVAILABLE')) console.log(`qemu   skipped: ${(error as Error).message}`);
    else throw error;
  }
}
