// `tart exec --executor shell` against gitlab-ci-local (4.65.1, the newest that runs on Node 20)
// on two pipelines: examples/sample-project (3 jobs in a needs chain) and
// bench/projects/matrix-pipeline (11 jobs: matrices, needs, needs: []). Both tools run as the
// user runs them (a fresh process per pipeline, default concurrency), alternating, on fresh
// copies. Prints min/median/max wall time per tool and the ratio Tart / gitlab-ci-local.
//   npx tsx bench/exec.ts [--runs N]
// gitlab-ci-local is installed on first use into $TART_BENCH_CACHE (default
// /var/cache/tart-bench or ~/.cache/tart-bench); it needs rsync. Tart runs dist/ when built.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const GITLAB_CI_LOCAL_VERSION = '4.65.1';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

const workloads = [
  { name: 'sample-project (3 jobs)', dir: join(repo, 'examples', 'sample-project') },
  { name: 'matrix-pipeline (11 jobs)', dir: join(repo, 'bench', 'projects', 'matrix-pipeline') },
];

function gitlabCiLocal(): string {
  const cache =
    process.env.TART_BENCH_CACHE ??
    (process.getuid?.() === 0 ? '/var/cache/tart-bench' : join(homedir(), '.cache', 'tart-bench'));
  const prefix = join(cache, `gitlab-ci-local-${GITLAB_CI_LOCAL_VERSION}`);
  const entry = join(prefix, 'node_modules', 'gitlab-ci-local', 'src', 'index.js');
  if (!existsSync(entry)) {
    mkdirSync(prefix, { recursive: true });
    console.log(`installing gitlab-ci-local@${GITLAB_CI_LOCAL_VERSION} into ${prefix} ...`);
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefix',
        prefix,
        `gitlab-ci-local@${GITLAB_CI_LOCAL_VERSION}`,
      ],
      {
        stdio: 'inherit',
      },
    );
  }
  if (spawnSync('rsync', ['--version']).status !== 0)
    throw new Error('gitlab-ci-local needs rsync (apt-get install rsync)');
  return entry;
}

function freshProject(source: string, root: string): string {
  const project = join(root, 'project');
  cpSync(source, project, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@localhost',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@localhost',
  };
  for (const args of [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'bench'],
  ])
    execFileSync('git', args, { cwd: project, env });
  return project;
}

// One pipeline run in a fresh process; returns wall milliseconds.
function timeRun(command: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, command, { cwd, env, encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (result.status !== 0)
    throw new Error(`${command.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return elapsed;
}

const stats = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

const gcl = gitlabCiLocal();
console.log(`${runs} runs each; Tart from ${existsSync(join(repo, 'dist')) ? 'dist/' : 'src/ (tsx)'}\n`);
for (const workload of workloads) {
  const tart: number[] = [];
  const reference: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < runs; run++) {
    const root = mkdtempSync(join(tmpdir(), 'tart-bench-exec-'));
    try {
      const home = join(root, 'home');
      mkdirSync(home);
      const tartProject = freshProject(workload.dir, join(root, 'tart'));
      const gclProject = freshProject(workload.dir, join(root, 'gcl'));
      const env = { ...process.env, HOME: home };
      const tartMs = timeRun(
        [
          join(repo, 'bin', 'tart.js'),
          'exec',
          '--executor',
          'shell',
          '--builds-dir',
          join(root, 'builds'),
          '--cache-dir',
          join(root, 'cache'),
        ],
        tartProject,
        env,
      );
      const gclMs = timeRun([gcl], gclProject, env);
      tart.push(tartMs);
      reference.push(gclMs);
      ratios.push(tartMs / gclMs);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const [t, g, r] = [stats(tart), stats(reference), stats(ratios)];
  console.log(workload.name);
  console.log(`  tart             min ${seconds(t.min)}  median ${seconds(t.median)}  max ${seconds(t.max)}`);
  console.log(`  gitlab-ci-local  min ${seconds(g.min)}  median ${seconds(g.median)}  max ${seconds(g.max)}`);
  console.log(
    `  ratio tart/gcl   min ${r.min.toFixed(2)}x  median ${r.median.toFixed(2)}x  max ${r.max.toFixed(2)}x\n`,
  );
}
