// Per-job overhead of the shell executor: a `true` job through the daemon against the fake GitLab
// on loopback, from the 201 that hands the job out to the final PUT, next to what a user would
// compare it to: a bare `git clone` of the same repository over the same smart-HTTP server with
// the same job token. The difference is Tart's own work (trace, updates, the generated script,
// cleanup). With --strace, one more job runs under strace and the processes it started are
// counted (the fake GitLab's own git http-backend trees are left out); TART_BENCH_LIST=1 lists them.
//   npx tsx bench/job-overhead.ts [--runs 9] [--strace]
// The daemon runs in this process with the test harness's trace cadence (200 ms), as the daemon
// tests run it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../test/daemon/daemon-harness.js';
import { callApi, jobRequestBody, runnerFeatures } from '../test/support/fake-gitlab/client.js';
import { startFakeGitLab, type FakeGitLab } from '../test/support/fake-gitlab/index.js';
import { createRepo } from '../test/support/git-repo.js';
import { formatSpread, option } from './support/figures.js';

const runs = Number(option('--runs', '9'));
const withStrace = process.argv.includes('--strace');
const TOKEN = 'glrt-bench_job_overhead_01';
const CLONER_TOKEN = 'glrt-bench_job_overhead_02';

// When each request-log entry was written: the fake logs once the answer is known.
function stampRequests(fake: FakeGitLab): number[] {
  const stamps: number[] = [];
  const log = fake.requests as Array<(typeof fake.requests)[number]>;
  const push = log.push.bind(log);
  log.push = (...entries) => {
    for (let index = 0; index < entries.length; index += 1) stamps.push(performance.now());
    return push(...entries);
  };
  return stamps;
}

function run(command: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: 'ignore',
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

// One handed-out → final PUT span, in ms.
async function timeJob(fake: FakeGitLab, stamps: number[]): Promise<number> {
  const job = fake.enqueueJob({ project: 'acme/widget', script: ['true'] });
  await fake.waitForJob(job.id, (state) => state.state === 'success' || state.state === 'failed', 60_000);
  // The state changes before the final PUT's answer is logged.
  const updatesOf = (): number =>
    fake.requests.filter((entry) => entry.endpoint === 'update' && entry.path === `/api/v4/jobs/${job.id}`)
      .length;
  for (let waited = 0; updatesOf() < 2 && waited < 2000; waited += 5)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const entries = fake.requests.map((entry, index) => ({ ...entry, at: stamps[index] ?? Number.NaN }));
  const handedOut = entries.findLast((entry) => entry.endpoint === 'request' && entry.status === 201);
  const final = entries.findLast(
    (entry) => entry.endpoint === 'update' && entry.path === `/api/v4/jobs/${job.id}`,
  );
  if (fake.job(job.id)?.state !== 'success' || !handedOut || !final)
    throw new Error(`job ${job.id} did not succeed`);
  return final.at - handedOut.at;
}

// A bare clone with a job token of a job this script took itself (tokens work while running).
async function timeClone(fake: FakeGitLab, dir: string, round: number): Promise<number> {
  const queued = fake.enqueueJob({ project: 'acme/widget', script: ['true'] });
  const answer = await callApi(fake.url, {
    method: 'POST',
    path: 'api/v4/jobs/request',
    json: jobRequestBody(CLONER_TOKEN, { features: runnerFeatures({ two_phase_job_commit: false }) }),
  });
  if (answer.status !== 201) throw new Error(`the cloner got ${answer.status}`);
  const url = new URL(`acme/widget.git`, fake.url);
  url.username = 'gitlab-ci-token';
  url.password = queued.token;
  const started = performance.now();
  await run('git', ['clone', '-q', url.toString(), join(dir, `clone-${round}`)]);
  const elapsed = performance.now() - started;
  await callApi(fake.url, {
    method: 'PUT',
    path: `api/v4/jobs/${queued.id}`,
    json: {
      token: queued.token,
      state: 'success',
      checksum: 'crc32:00000000',
      output: { checksum: 'crc32:00000000', bytesize: 0 },
    },
  });
  return elapsed;
}

// execve count of one job's processes from an strace -f log, without the fake's http-backend trees.
function countJobProcesses(log: string, daemonPid: number, window: [number, number]): number {
  const parent = new Map<number, number>();
  const firstExec = new Map<number, string>();
  let execs = 0;
  const execByPid: Array<[number, string]> = [];
  for (const line of log.split('\n')) {
    const match = /^(\d+) +(\d+\.\d+) (.*)$/.exec(line);
    if (!match) continue;
    const pid = Number(match[1]);
    const at = Number(match[2]);
    const call = match[3] ?? '';
    const forked = /^(?:clone3?|vfork|fork)\(.*\) = (\d+)$/.exec(call);
    if (forked) parent.set(Number(forked[1]), pid);
    const exec = /^execve\("([^"]+)", \[([^\]]*)\].* = 0$/.exec(call);
    if (exec) {
      if (at >= window[0] && at <= window[1]) execByPid.push([pid, exec[2] ?? '']);
      if (!firstExec.has(pid)) firstExec.set(pid, exec[2] ?? '');
    }
  }
  const rootOf = (pid: number): number => {
    let current = pid;
    while (parent.get(current) !== undefined && parent.get(current) !== daemonPid)
      current = parent.get(current) as number;
    return current;
  };
  for (const [pid] of execByPid) {
    if (pid === daemonPid) continue;
    if ((firstExec.get(rootOf(pid)) ?? '').includes('"http-backend"')) continue;
    execs += 1;
    if (process.env.TART_BENCH_LIST)
      console.log(`    ${(execByPid.find(([p]) => p === pid) ?? [0, ''])[1].slice(0, 150)}`);
  }
  return execs;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-bench-overhead-'));
  const fake = await startFakeGitLab();
  const stamps = stampRequests(fake);
  const repo = await createRepo({ files: { 'README.md': '# widget\n', 'src/app.txt': 'hello\n' } });
  fake.addProject({ path: 'acme/widget', repo });
  fake.addRunner({ token: TOKEN });
  fake.addRunner({ token: CLONER_TOKEN });
  const harness = await startDaemon({ url: fake.url, token: TOKEN });
  try {
    const warmUp = await timeJob(fake, stamps); // warm-up: first clone, module loading
    if (runs === 0) {
      // The strace child: print the warm-up job's span as epoch seconds for the parent.
      const end = performance.timeOrigin + (stamps.at(-1) ?? 0);
      console.log(`WINDOW ${(end - warmUp) / 1000} ${end / 1000}`);
    }
    const jobs: number[] = [];
    const clones: number[] = [];
    for (let round = 0; round < runs; round += 1) {
      jobs.push(await timeJob(fake, stamps));
      clones.push(await timeClone(fake, dir, round));
    }
    const overhead = jobs.map((job, index) => job - (clones[index] ?? 0));
    if (runs === 0) return;
    console.log(
      `shell job \`true\`, handed out → final PUT, ${runs} interleaved runs, ms min / median / max`,
    );
    console.log(`  Tart job:            ${formatSpread(jobs, 0)}`);
    console.log(`  bare git clone:      ${formatSpread(clones, 0)}`);
    console.log(`  Tart's own work:     ${formatSpread(overhead, 0)} (job − clone, per pair)`);
  } finally {
    await harness.cleanup();
    await fake.close();
    await repo.cleanup();
  }
  if (withStrace) await straceOneJob(dir);
  await rm(dir, { recursive: true, force: true });
}

// Re-runs this bench for one job under strace and counts what that job started.
async function straceOneJob(dir: string): Promise<void> {
  const log = join(dir, 'strace.log');
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-ttt',
        '-e',
        'trace=execve,clone,clone3,vfork,fork',
        '-e',
        'signal=none',
        '-o',
        log,
        process.execPath,
        '--import',
        'tsx',
        new URL(import.meta.url).pathname,
        '--runs',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  const [, start, end] = /WINDOW (\S+) (\S+)/.exec(stdout) ?? [];
  if (start === undefined || end === undefined) throw new Error('the strace run printed no window');
  const text = await readFile(log, 'utf8');
  const daemonPid = Number(/^(\d+) /.exec(text)?.[1]);
  console.log(
    `  processes one job started (strace -f, warm-up job only): ${countJobProcesses(text, daemonPid, [Number(start), Number(end)])}`,
  );
}

await main();
