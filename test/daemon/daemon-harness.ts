// Runs an in-process Daemon against the fake GitLab with the shell executor, for the daemon tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/run.js';
import { runJob } from '../../src/job/run-job.js';
import type { RunJobOptions } from '../../src/job/types.js';
import { createLogger } from '../../src/log/logger.js';
import { createDaemonMetrics } from '../../src/daemon/metrics.js';
import { startFakeGitLab, type FakeGitLab, type FakeGitLabOptions } from '../support/fake-gitlab/index.js';
import { createRepo, type RepoFiles, type TestRepo } from '../support/git-repo.js';

export interface Harness {
  daemon: Daemon;
  dir: string;
  /** Everything the daemon logged. */
  logs: () => string;
  /** Per job id: the exact bytes the engine wrote to the trace. */
  printed: Map<number, Buffer>;
  /** True when the daemon handles no job. */
  daemonIdle: (jobId?: number) => boolean;
  cleanup: () => Promise<void>;
}

export interface DaemonOptions {
  url: string;
  token: string;
  concurrent?: number;
  runnerToml?: string;
  globalToml?: string;
  name?: string;
  /** A whole config.toml instead of the generated one; `{{dir}}` is replaced by the harness dir. */
  configText?: string;
  /** Environment for `$VAR` expansion in configText. */
  env?: NodeJS.ProcessEnv;
  /** Trace keep-alive after this much silence (default 500 ms, so silent jobs see cancels fast; 0 = Tart's 30 s). */
  traceForceSendIntervalMs?: number;
}

/** A fake GitLab, its one runner and project `acme/widget`, and a daemon serving that runner. */
export interface WidgetDaemon {
  fake: FakeGitLab;
  repo: TestRepo;
  harness: Harness;
  /** Stops the daemon, then the fake, then removes the repository. */
  cleanup: () => Promise<void>;
}

/**
 * The setup most daemon tests share: a fake GitLab (trace updates every second unless `fake` says
 * otherwise) with runner `token` and project `acme/widget` holding `files`, and a daemon for it.
 */
export async function startWidgetDaemon(options: {
  token: string;
  files: RepoFiles;
  fake?: FakeGitLabOptions;
  daemon?: Omit<DaemonOptions, 'url' | 'token'>;
}): Promise<WidgetDaemon> {
  const fake = await startFakeGitLab({ traceUpdateInterval: 1, ...options.fake });
  const repo = await createRepo({ files: options.files });
  fake.addProject({ path: 'acme/widget', repo });
  fake.addRunner({ token: options.token });
  const harness = await startDaemon({ url: fake.url, token: options.token, ...options.daemon });
  return {
    fake,
    repo,
    harness,
    cleanup: async () => {
      await harness.cleanup();
      await fake.close();
      await repo.cleanup();
    },
  };
}

/** A daemon whose config.toml is `runnerToml` appended to a runner entry for `url`/`token`. */
export async function startDaemon(options: DaemonOptions): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-daemon-'));
  const generated = [
    `concurrent = ${options.concurrent ?? 1}`,
    'check_interval = 1',
    'shutdown_timeout = 5',
    options.globalToml ?? '',
    '[[runners]]',
    `name = "${options.name ?? 'test-runner'}"`,
    `url = "${options.url}"`,
    `token = "${options.token}"`,
    'executor = "shell"',
    `builds_dir = "${join(dir, 'builds')}"`,
    `cache_dir = "${join(dir, 'cache')}"`,
    options.runnerToml ?? '',
  ].join('\n');
  const toml = options.configText?.replaceAll('{{dir}}', dir) ?? generated;
  const config = parseConfig(toml, join(dir, 'config.toml'), {
    imageDir: join(dir, 'image'),
    hostname: 'test',
    env: options.env ?? {},
  });
  let logText = '';
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    stream: { write: (chunk: string) => (logText += chunk) },
  });
  const printed = new Map<number, Buffer>();
  const recordingRunJob = (jobOptions: RunJobOptions) => {
    const chunks: Buffer[] = [];
    printed.set(jobOptions.job.id, Buffer.alloc(0));
    const tee = teeInto(jobOptions.trace, (chunk) => {
      chunks.push(chunk);
      printed.set(jobOptions.job.id, Buffer.concat(chunks));
    });
    return runJob({ ...jobOptions, trace: tee });
  };
  const daemon = new Daemon({
    config,
    systemId: 's_0123456789ab',
    tartVersion: '0.1.0-test',
    logger,
    defaultCacheDir: join(dir, 'cache'),
    metrics: createDaemonMetrics({ defaultMetrics: false }),
    runJob: recordingRunJob,
    traceUpdateIntervalMs: 200,
    traceForceSendIntervalMs: options.traceForceSendIntervalMs ?? 500,
  });
  await daemon.start();
  return {
    daemon,
    dir,
    logs: () => logText,
    printed,
    daemonIdle: () => daemon.runningJobCount === 0,
    cleanup: async () => {
      daemon.stopForcefully();
      await daemon.whenStopped();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Writable that records every chunk and forwards it at once (with backpressure) to `target`. */
export function teeInto(target: Writable, record: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      record(chunk);
      if (target.write(chunk)) callback();
      else target.once('drain', () => callback());
    },
    final(callback) {
      callback();
    },
  });
}
