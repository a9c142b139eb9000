// An in-process Daemon whose runner uses the QEMU executor (user-mode networking) against the
// fake GitLab, recording each job's trace with host-side arrival times.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { createDaemonMetrics } from '../../src/daemon/metrics.js';
import { Daemon } from '../../src/daemon/run.js';
import { runJob } from '../../src/job/run-job.js';
import type { RunJobOptions } from '../../src/job/types.js';
import { createLogger } from '../../src/log/logger.js';
import { teeInto } from '../daemon/daemon-harness.js';
import { traceAsShown } from '../support/trace-view.js';

export interface TraceChunk {
  at: number;
  text: string;
}

export interface QemuDaemonHarness {
  daemon: Daemon;
  logs: () => string;
  /** Per job id: every chunk the engine wrote to the trace, with the time it was written. */
  chunks: Map<number, TraceChunk[]>;
  /** When `text` first appeared in job `id`'s trace (host clock), or undefined. */
  firstSeen: (id: number, text: string) => number | undefined;
  cleanup: () => Promise<void>;
}

export async function startQemuDaemon(options: {
  url: string;
  token: string;
  concurrent: number;
  imageDir: string;
  runtimeRoot: string;
  /** Extra [runners.vm] lines (image store keys). */
  vmLines?: string[];
  /** The runner's `environment` entries. */
  environment?: string[];
  /**
   * Put QEMU behind the host guard as this `vm_user`; absent = host_guard = false, so these tests
   * never load nftables into the machine's own namespace (the guard's own tests run in one they make).
   */
  guardAs?: string;
  /** The daemon's metrics/status server. */
  listenAddress?: string;
}): Promise<QemuDaemonHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-qemu-daemon-'));
  const toml = [
    `concurrent = ${options.concurrent}`,
    'check_interval = 1',
    'shutdown_timeout = 5',
    ...(options.listenAddress ? [`listen_address = "${options.listenAddress}"`] : []),
    '[[runners]]',
    'name = "qemu-e2e"',
    `url = "${options.url}"`,
    `token = "${options.token}"`,
    'executor = "qemu"',
    `cache_dir = "${join(dir, 'cache')}"`,
    ...(options.environment ? [`environment = ${JSON.stringify(options.environment)}`] : []),
    '[runners.vm]',
    `image = "${options.imageDir}"`,
    'vcpus = 1',
    'memory_mb = 512',
    'disk_size_mb = 2048',
    'boot_timeout = 240',
    'network = "user"',
    ...(options.guardAs ? [`vm_user = "${options.guardAs}"`] : ['host_guard = false']),
    ...(options.vmLines ?? []),
  ].join('\n');
  const config = parseConfig(toml, join(dir, 'config.toml'), {
    imageDir: options.imageDir,
    hostname: 'test',
  });
  let logText = '';
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    stream: { write: (chunk: string) => (logText += chunk) },
  });
  const chunks = new Map<number, TraceChunk[]>();
  const recordingRunJob = (jobOptions: RunJobOptions) => {
    const list: TraceChunk[] = [];
    chunks.set(jobOptions.job.id, list);
    const tee = teeInto(jobOptions.trace, (chunk) =>
      list.push({ at: Date.now(), text: chunk.toString('utf8') }),
    );
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
    // Silent jobs still see a cancel within half a second (Tart's default is gitlab-runner's 30 s).
    traceForceSendIntervalMs: 500,
    runtimeRoot: options.runtimeRoot,
  });
  await daemon.start();
  const firstSeen = (id: number, text: string) => {
    let sofar = '';
    for (const chunk of chunks.get(id) ?? []) {
      sofar += chunk.text;
      if (traceAsShown(sofar).includes(text)) return chunk.at;
    }
    return undefined;
  };
  return {
    daemon,
    logs: () => logText,
    chunks,
    firstSeen,
    cleanup: async () => {
      daemon.stopForcefully();
      await daemon.whenStopped();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
