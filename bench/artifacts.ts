// Artifact and cache throughput: 1,000 files / 200 MB (half random, half text) read out of a
// host JobEnvironment as tar, zipped on the fly into the local cache store, then restored
// into a fresh project dir. Run: npx tsx bench/artifacts.ts [fileCount] [totalMB]
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { archiveCaches } from '../src/cache/archive-cache.js';
import { restoreCaches } from '../src/cache/restore-cache.js';
import { LocalCacheStore } from '../src/cache/store.js';
import type { JobPayload } from '../src/model/payload.js';
import { createHostEnvironment } from '../test/support/host-environment.js';

const fileCount = Number(process.argv[2] ?? 1000);
const totalMB = Number(process.argv[3] ?? 200);

const env = await createHostEnvironment();
try {
  const projectDir = join(env.buildsDir, 'bench', 'project');
  const bytes = await writeFiles(join(projectDir, 'data'), fileCount, totalMB * 1024 * 1024);
  const mb = bytes / 1024 / 1024;
  const store = new LocalCacheStore({ dir: join(env.root, 'cache') });
  const signal = new AbortController().signal;
  const log = (): void => undefined;

  // archive_cache: find + tar out of the environment, zipped on the fly into the store.
  const archive = async (key: string, level: string): Promise<void> => {
    const variables = [{ key: 'CACHE_COMPRESSION_LEVEL', value: level }];
    const job = benchJob(key);
    const { seconds, cpu } = await measure(() =>
      archiveCaches({ env, job, projectDir, variables, store, jobSucceeded: true, log, signal }),
    );
    const zipMB = (await stat(store.archivePath({ project: 'bench/project', key }))).size / 1024 / 1024;
    console.log(
      `zip from tar stream, level ${level}: ${seconds.toFixed(2)} s wall, ${(mb / seconds).toFixed(1)} MB/s, ` +
        `${cpu.toFixed(2)} s CPU in node, zip ${zipMB.toFixed(1)} MB`,
    );
  };

  console.log(`files: ${fileCount}, input: ${mb.toFixed(1)} MB (half random, half text)`);
  await archive('default', 'default');
  await archive('fastest', 'fastest');

  // restore_cache of the default-level archive into a fresh project dir.
  await rm(projectDir, { recursive: true, force: true });
  await mkdir(projectDir, { recursive: true });
  const restored = await measure(() =>
    restoreCaches({ env, job: benchJob('default'), projectDir, variables: [], store, log, signal }),
  );
  const restoredBytes = await sumSizes(join(projectDir, 'data'));
  if (restoredBytes !== bytes) throw new Error(`restored ${restoredBytes} bytes, expected ${bytes}`);
  console.log(
    `cache restore into a fresh dir: ${restored.seconds.toFixed(2)} s wall, ` +
      `${(mb / restored.seconds).toFixed(1)} MB/s, ${restored.cpu.toFixed(2)} s CPU in node`,
  );
  const load = loadavg().map((value) => value.toFixed(1));
  console.log(`load average: ${load.join(' ')} on ${cpus().length} CPUs`);
} finally {
  await env.close();
}

async function measure(run: () => Promise<unknown>): Promise<{ seconds: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  return { seconds: (performance.now() - started) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu)) };
}

// User + system time of this process, zlib's thread pool included (not the tar children).
function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
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
