// Archive throughput side by side with Info-ZIP: 1,000 files / 200 MB (half random, half text)
// read out of a host JobEnvironment as tar and zipped on the fly into the local cache store
// (archive_cache), next to `zip -6` / `zip -0` of the same tree; then restore_cache of Tart's
// default-level archive into a fresh dir next to `unzip -q` of the same archive. Rounds
// interleave the contestants (and alternate who goes first) so load from neighbours hits both.
// CPU is this process (zlib's thread pool included) plus its waited-for children (tar, find,
// zip, unzip), from /proc/self/stat: on a shared machine CPU time is the figure to trust.
//   npx tsx bench/artifacts.ts [--files 1000] [--mb 200] [--rounds 5]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { archiveCaches } from '../src/cache/archive-cache.js';
import { restoreCaches } from '../src/cache/restore-cache.js';
import { LocalCacheStore } from '../src/cache/store.js';
import type { JobPayload } from '../src/model/payload.js';
import { createHostEnvironment } from '../test/support/host-environment.js';
import { formatSpread, option, spread } from './support/figures.js';

const fileCount = Number(option('--files', '1000'));
const totalMB = Number(option('--mb', '200'));
const rounds = Number(option('--rounds', '5'));
const run = promisify(execFile);

interface Sample {
  wall: number;
  cpu: number;
  /** Of `cpu`, what the waited-for children used (tar, find; zip, unzip). */
  children: number;
}

const env = await createHostEnvironment();
try {
  const projectDir = join(env.root, 'builds', 'bench', 'project');
  const bytes = await writeFiles(join(projectDir, 'data'), fileCount, totalMB * 1024 * 1024);
  const mb = bytes / 1024 / 1024;
  const store = new LocalCacheStore({ dir: join(env.root, 'cache') });
  const signal = new AbortController().signal;
  const log = (): void => undefined;
  const archivePath = (key: string): string => store.archivePath({ project: 'bench/project', key });
  const zipSizes: Record<string, number> = {};

  // archive_cache: find + tar out of the environment, zipped on the fly into the store.
  const tartZip = (level: string) => async (): Promise<Sample> => {
    const variables = [{ key: 'CACHE_COMPRESSION_LEVEL', value: level }];
    await rm(archivePath(level), { force: true });
    const sample = await measure(() =>
      archiveCaches({
        env,
        job: benchJob(level),
        projectDir,
        variables,
        store,
        jobSucceeded: true,
        log,
        signal,
      }),
    );
    zipSizes[`tart ${level}`] = (await stat(archivePath(level))).size;
    return sample;
  };
  const infoZip = (flag: string) => async (): Promise<Sample> => {
    const output = join(env.root, `info-zip${flag}.zip`);
    await rm(output, { force: true });
    const sample = await measure(() => run('zip', [flag, '-q', '-r', output, 'data'], { cwd: projectDir }));
    zipSizes[`zip ${flag}`] = (await stat(output)).size;
    return sample;
  };
  const restoreInto = join(env.root, 'builds', 'bench', 'restore');
  const tartRestore = async (): Promise<Sample> => {
    await rm(restoreInto, { recursive: true, force: true });
    await mkdir(restoreInto, { recursive: true });
    const job = benchJob('default');
    const sample = await measure(() =>
      restoreCaches({ env, job, projectDir: restoreInto, variables: [], store, log, signal }),
    );
    await checkRestored(join(restoreInto, 'data'), bytes);
    return sample;
  };
  const unzipRestore = async (): Promise<Sample> => {
    await rm(restoreInto, { recursive: true, force: true });
    await mkdir(restoreInto, { recursive: true });
    const sample = await measure(() => run('unzip', ['-q', archivePath('default'), '-d', restoreInto]));
    await checkRestored(join(restoreInto, 'data'), bytes);
    return sample;
  };

  // The floor of Tart's restore: the environment's own `tar -x` of the tree (from a file here).
  const tarFile = join(env.root, 'tree.tar');
  await run('tar', ['-c', '-f', tarFile, 'data'], { cwd: projectDir });
  const tarExtractAlone = async (): Promise<Sample> => {
    await rm(restoreInto, { recursive: true, force: true });
    await mkdir(restoreInto, { recursive: true });
    return measure(() => run('tar', ['-x', '-f', tarFile, '-C', restoreInto]));
  };
  const floor: Sample[] = [];

  const pairs: Array<{
    goal: string;
    limit: number;
    tart: () => Promise<Sample>;
    reference: () => Promise<Sample>;
    name: string;
    label: string;
  }> = [
    {
      goal: 'zip, default level',
      limit: 1.0,
      tart: tartZip('default'),
      reference: infoZip('-6'),
      name: 'zip -6',
      label: 'CPU',
    },
    {
      goal: 'zip, fastest (store)',
      limit: 1.3,
      tart: tartZip('fastest'),
      reference: infoZip('-0'),
      name: 'zip -0',
      label: 'CPU',
    },
    {
      goal: 'restore (unzip)',
      limit: 1.0,
      tart: tartRestore,
      reference: unzipRestore,
      name: 'unzip -q',
      label: 'CPU',
    },
  ];
  const samples = pairs.map(() => ({ tart: [] as Sample[], reference: [] as Sample[] }));
  const loads: number[] = [];

  console.log(
    `archives: node ${process.version}, ${fileCount} files, ${mb.toFixed(1)} MiB (half random, half text), ` +
      `${rounds} interleaved rounds on ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
  );
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, pair] of pairs.entries()) {
      const slot = samples[index]!;
      if (round % 2 === 0) {
        slot.tart.push(await pair.tart());
        slot.reference.push(await pair.reference());
      } else {
        slot.reference.push(await pair.reference());
        slot.tart.push(await pair.tart());
      }
    }
    floor.push(await tarExtractAlone());
    loads.push(loadavg()[0] ?? 0);
    process.stdout.write(`  round ${round + 1}/${rounds} done, load ${loads.at(-1)?.toFixed(1)}\n`);
  }

  console.log('figures: min / median / max seconds; ratio = Tart / reference, per round');
  for (const [index, pair] of pairs.entries()) {
    const { tart, reference } = samples[index]!;
    const cpuRatios = tart.map((sample, round) => sample.cpu / reference[round]!.cpu);
    const wallRatios = tart.map((sample, round) => sample.wall / reference[round]!.wall);
    const median = spread(cpuRatios).median;
    console.log(`${pair.goal}:`);
    const cpuOf = (samples: Sample[]): string =>
      formatSpread(
        samples.map((sample) => sample.cpu),
        2,
      );
    const wallOf = (samples: Sample[]): string =>
      formatSpread(
        samples.map((sample) => sample.wall),
        2,
      );
    const childrenOf = formatSpread(
      tart.map((sample) => sample.children),
      2,
    );
    console.log(
      `  Tart      CPU ${cpuOf(tart)}   wall ${wallOf(tart)}   (CPU of its tar/find children ${childrenOf})`,
    );
    console.log(`  ${pair.name.padEnd(9)} CPU ${cpuOf(reference)}   wall ${wallOf(reference)}`);
    console.log(
      `  ratio     CPU ${formatSpread(cpuRatios, 2)} (goal ≤ ${pair.limit.toFixed(1)}: ${median <= pair.limit ? 'met' : 'not met'})` +
        `   wall ${formatSpread(wallRatios, 2)}` +
        (index === 0 ? ` (goal ≤ 0.6: ${spread(wallRatios).median <= 0.6 ? 'met' : 'not met'})` : ''),
    );
  }
  console.log(
    `  floor: tar -x of the same tree alone (what the environment runs for Tart): CPU ${formatSpread(
      floor.map((sample) => sample.cpu),
      2,
    )}`,
  );
  const sizes = Object.entries(zipSizes).map(([name, size]) => `${name} ${(size / 1024 / 1024).toFixed(1)}`);
  console.log(`archive sizes (MiB): ${sizes.join(', ')}`);
  console.log(
    `load average (1 min) over the rounds: ${formatSpread(loads, 1)}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
} finally {
  await env.close();
}

// Wall time, and CPU of this process plus the children it waited for meanwhile.
async function measure(action: () => Promise<unknown>): Promise<Sample> {
  const self = process.cpuUsage();
  const children = await childrenCpuSeconds();
  const started = performance.now();
  await action();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(self);
  const childCpu = (await childrenCpuSeconds()) - children;
  return { wall, cpu: (used.user + used.system) / 1e6 + childCpu, children: childCpu };
}

// cutime + cstime of /proc/self/stat: CPU of the children this process has waited for.
async function childrenCpuSeconds(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

// Even-numbered files are random (incompressible), odd ones repetitive text.
async function writeFiles(dir: string, count: number, total: number): Promise<number> {
  const size = Math.floor(total / count);
  const text = Buffer.alloc(size, 'lorem ipsum dolor sit amet, consectetur adipiscing elit\n');
  let written = 0;
  for (let index = 0; index < count; index += 1) {
    const subdir = join(dir, `d${index % 20}`);
    await mkdir(subdir, { recursive: true });
    await writeFile(join(subdir, `f${index}.bin`), index % 2 === 0 ? randomBytes(size) : text);
    written += size;
  }
  return written;
}

async function checkRestored(dir: string, expected: number): Promise<void> {
  const restored = await sumSizes(dir);
  if (restored !== expected) throw new Error(`restored ${restored} bytes, expected ${expected}`);
}

async function sumSizes(dir: string): Promise<number> {
  let total = 0;
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, dirent.name);
    total += dirent.isDirectory() ? await sumSizes(path) : (await stat(path)).size;
  }
  return total;
}

function benchJob(key: string): JobPayload {
  return {
    id: 1,
    token: 'bench',
    job_info: {
      id: 1,
      name: 'bench',
      stage: 'test',
      project_id: 1,
      project_name: 'project',
      project_full_path: 'bench/project',
    },
    git_info: {
      repo_url: 'https://example.com/bench/project.git',
      ref: 'main',
      sha: '',
      before_sha: '',
      ref_type: 'branch',
      refspecs: [],
      depth: 0,
    },
    runner_info: { timeout: 3600 },
    variables: [],
    steps: [],
    hooks: [],
    artifacts: [],
    cache: [{ key, paths: ['data/'], policy: 'pull-push', when: 'on_success' }],
    dependencies: [],
    features: {},
  };
}
