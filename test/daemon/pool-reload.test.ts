// Daemon.applyConfig with the real executor factory (the daemon is not started, so no VM boots):
// a reload that changes only a runner's pool size (idle_count, idle_time, limit, concurrent) keeps
// its executor and resizes its pool in place; any other change to the entry builds a new executor
// and disposes the old one (it ran no job); a runner built without a pool gets a new one for
// idle_count > 0; tart_pool_vms follows the kept pool and forgets a removed runner.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { TartConfig } from '../../src/config/types.js';
import { Daemon } from '../../src/daemon/run.js';
import { createDaemonMetrics } from '../../src/daemon/metrics.js';
import { createExecutorFor, type ExecutorFactory } from '../../src/executor/factory.js';
import type { Executor } from '../../src/executor/types.js';
import { PooledVmProvider, VmExecutor } from '../../src/executor/vm/index.js';
import { createLogger } from '../../src/log/logger.js';

describe('a config reload and the warm pool (in-process daemon, not started)', () => {
  let dir: string;
  let logText = '';
  /** What the current test's daemon built; every executor any test built, for after(). */
  let built: Executor[] = [];
  const all: Executor[] = [];
  const disposed = new Set<Executor>();
  // The real factory; every executor it builds is recorded, and its dispose() noted.
  const recordingFactory: ExecutorFactory = (runner, options) => {
    const executor = createExecutorFor(runner, options);
    const dispose = executor.dispose?.bind(executor);
    executor.dispose = async () => {
      disposed.add(executor);
      await dispose?.();
    };
    built.push(executor);
    all.push(executor);
    return executor;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-pool-reload-'));
  });
  after(async () => {
    await Promise.all(all.map((executor) => executor.dispose?.()));
    await rm(dir, { recursive: true, force: true });
  });

  function configOf(options: { concurrent?: number; limit?: number; idleCount: number; idleTime?: number; memoryMb?: number; token?: string }): TartConfig {
    const text = [
      `concurrent = ${options.concurrent ?? 4}`,
      '[[runners]]',
      'name = "pooled"',
      'url = "https://gitlab.example.com/"',
      `token = "${options.token ?? 'glrt-pool-reload-token-0001'}"`,
      'executor = "qemu"',
      `limit = ${options.limit ?? 3}`,
      '[runners.vm]',
      `memory_mb = ${options.memoryMb ?? 512}`,
      `idle_count = ${options.idleCount}`,
      `idle_time = ${options.idleTime ?? 600}`,
    ].join('\n');
    return parseConfig(text, join(dir, 'config.toml'), { imageDir: join(dir, 'image'), hostname: 'test', env: {} });
  }

  /** The logger of the last daemon made. */
  let logger: ReturnType<typeof createLogger>;
  function daemonFor(config: TartConfig, metrics = createDaemonMetrics({ defaultMetrics: false })): Daemon {
    logger = createLogger({ level: 'debug', format: 'json', stream: { write: (chunk: string) => (logText += chunk) } });
    return new Daemon({
      config,
      systemId: 's_0123456789ab',
      tartVersion: '0.1.0-test',
      logger,
      defaultCacheDir: join(dir, 'cache'),
      metrics,
      createExecutor: recordingFactory,
      runtimeRoot: join(dir, 'run'),
    });
  }

  function poolOf(executor: Executor | undefined): PooledVmProvider {
    assert.ok(executor instanceof VmExecutor && executor.provider instanceof PooledVmProvider, 'a pooled VM executor');
    return executor.provider;
  }

  it('resizes the pool in place for idle_count, idle_time, limit and concurrent, and replaces it for anything else', () => {
    built = [];
    const daemon = daemonFor(configOf({ idleCount: 1 }));
    const [first] = built;
    assert.deepEqual(poolOf(first).settings, { idleCount: 1, idleTimeMs: 600_000, maxVms: 3 });

    daemon.applyConfig(configOf({ idleCount: 2, idleTime: 30, limit: 5 }));
    assert.equal(built.length, 1, 'no new executor');
    assert.deepEqual(poolOf(first).settings, { idleCount: 2, idleTimeMs: 30_000, maxVms: 4 }, 'limit 5 within concurrent 4');
    assert.match(logText, /runner reloaded in place: its executor and ready VMs stay/);

    daemon.applyConfig(configOf({ idleCount: 2, idleTime: 30, limit: 5, concurrent: 2 }));
    assert.equal(built.length, 1);
    assert.equal(poolOf(first).settings.maxVms, 2, 'a lower `concurrent` lowers the budget');

    daemon.applyConfig(configOf({ idleCount: 0, idleTime: 30, limit: 5, concurrent: 2 }));
    daemon.applyConfig(configOf({ idleCount: 1, idleTime: 30, limit: 5, concurrent: 2 }));
    assert.equal(built.length, 1, 'down to 0 and back up: the same pool');
    assert.equal(poolOf(first).settings.idleCount, 1);
    assert.ok(!disposed.has(first as Executor));

    daemon.applyConfig(configOf({ idleCount: 1, idleTime: 30, limit: 5, concurrent: 2, memoryMb: 1024 }));
    assert.equal(built.length, 2, 'more memory: a new executor');
    assert.ok(disposed.has(first as Executor), 'the old one is disposed (it ran no job)');
    assert.deepEqual(poolOf(built[1]).settings, { idleCount: 1, idleTimeMs: 30_000, maxVms: 2 }, 'built with the new concurrent');
  });

  it('gives a runner built without a pool a new executor with one when idle_count goes above 0', () => {
    built = [];
    const daemon = daemonFor(configOf({ idleCount: 0 }));
    const [first] = built;
    assert.ok(first instanceof VmExecutor && !(first.provider instanceof PooledVmProvider), 'no pool for idle_count = 0');
    daemon.applyConfig(configOf({ idleCount: 0, limit: 1 }));
    assert.equal(built.length, 1, 'a new limit alone keeps a pool-less executor');
    daemon.applyConfig(configOf({ idleCount: 2, limit: 1 }));
    assert.equal(built.length, 2, 'a new executor, with a pool');
    assert.deepEqual(poolOf(built[1]).settings, { idleCount: 2, idleTimeMs: 600_000, maxVms: 1 });
  });

  it("reports the resized pool in tart_pool_vms, and a removed runner's pool no more", async () => {
    built = [];
    const metrics = createDaemonMetrics({ defaultMetrics: false });
    const daemon = daemonFor(configOf({ idleCount: 1 }), metrics);
    daemon.applyConfig(configOf({ idleCount: 3 }));
    assert.match(await metrics.render(), /tart_pool_vms\{runner="pooled",state="idle"\} 0\b/, 'the kept pool (not started: empty)');
    daemon.applyConfig(parseConfig('concurrent = 4', join(dir, 'config.toml'), { imageDir: join(dir, 'image'), hostname: 'test', env: {} }));
    assert.doesNotMatch(await metrics.render(), /tart_pool_vms\{runner="pooled"/);
  });

  it('keeps the executor and its ready VMs across a token rotation, and masks the new token in the log', () => {
    built = [];
    const daemon = daemonFor(configOf({ idleCount: 1 }));
    const [first] = built;
    const rotated = 'glrt-pool-reload-token-0002';
    daemon.applyConfig(configOf({ idleCount: 1, token: rotated }), { from: 'glrt-pool-reload-token-0001', to: rotated });
    assert.equal(built.length, 1, 'no new executor: the pool keeps its VMs');
    assert.ok(!disposed.has(first as Executor));
    logger.info(`token is ${rotated}`);
    assert.ok(!logText.includes(rotated), 'the rotated token is a secret of the log');
  });
});
