// Which config reloads resize a runner's warm pool in place and which replace its executor, and
// the pool settings (the VM budget included) a runner entry gives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { RunnerConfig } from '../../src/config/types.js';
import { poolSettingsOf, reloadEffectOf } from '../../src/executor/pool-settings.js';

const DEFAULTS = { imageDir: '/images/current', hostname: 'build-host' };

// One qemu runner with a pool; `runner` and `vm` are extra lines for [[runners]] and [runners.vm].
function runnerOf(lines: { executor?: string; memoryMb?: number; runner?: string[]; vm?: string[] } = {}): RunnerConfig {
  const text = [
    '[[runners]]',
    'name = "pooled"',
    'url = "https://gitlab.example.com/"',
    'token = "glrt-pool-settings-token-1"',
    `executor = "${lines.executor ?? 'qemu'}"`,
    ...(lines.runner ?? ['limit = 4']),
    '[runners.vm]',
    `memory_mb = ${lines.memoryMb ?? 1024}`,
    ...(lines.vm ?? ['idle_count = 1', 'idle_time = 600']),
  ].join('\n');
  const [runner] = parseConfig(text, '/etc/tart/config.toml', DEFAULTS).runners;
  assert.ok(runner);
  return runner;
}

describe('what a config reload does to a runner executor', () => {
  const previous = runnerOf();
  const cases: Array<[string, RunnerConfig, ReturnType<typeof reloadEffectOf>]> = [
    ['the same entry', runnerOf(), 'unchanged'],
    ['a new idle_count', runnerOf({ vm: ['idle_count = 2', 'idle_time = 600'] }), 'resize'],
    ['idle_count = 0', runnerOf({ vm: ['idle_count = 0', 'idle_time = 600'] }), 'resize'],
    ['a new idle_time', runnerOf({ vm: ['idle_count = 1', 'idle_time = 30'] }), 'resize'],
    ['a new limit (the VM budget)', runnerOf({ runner: ['limit = 2'] }), 'resize'],
    ['idle_count, idle_time and limit together', runnerOf({ runner: ['limit = 8'], vm: ['idle_count = 3', 'idle_time = 0'] }), 'resize'],
    ['more memory', runnerOf({ memoryMb: 2048 }), 'replace'],
    ['a new idle_count and more cpus', runnerOf({ vm: ['idle_count = 2', 'idle_time = 600', 'vcpus = 4'] }), 'replace'],
    ['another guest image', runnerOf({ vm: ['idle_count = 1', 'idle_time = 600', 'image = "/images/other"'] }), 'replace'],
    ['TAP networking', runnerOf({ vm: ['idle_count = 1', 'idle_time = 600', 'network = "tap"'] }), 'replace'],
    ['another executor', runnerOf({ executor: 'firecracker', vm: ['idle_count = 1', 'idle_time = 600', 'network = "tap"'] }), 'replace'],
    ['another boot timeout', runnerOf({ vm: ['idle_count = 1', 'idle_time = 600', 'boot_timeout = 30'] }), 'replace'],
    ['a job-image setting (allowed_images)', runnerOf({ vm: ['idle_count = 1', 'idle_time = 600', 'allowed_images = ["alpine:*"]'] }), 'replace'],
    ['a runner setting outside the pool (environment)', runnerOf({ runner: ['limit = 4', 'environment = ["A=1"]'] }), 'replace'],
    ['a rotated token (the executor never reads it)', { ...runnerOf(), token: 'glrt-pool-settings-token-2', tokenObtainedAt: new Date('2026-12-08T00:00:00Z'), tokenExpiresAt: new Date('2027-01-08T00:00:00Z') }, 'resize'],
    ['a rotated token and more memory', { ...runnerOf({ memoryMb: 2048 }), token: 'glrt-pool-settings-token-2' }, 'replace'],
  ];
  for (const [change, next, effect] of cases) {
    it(`${change}: ${effect}`, () => assert.equal(reloadEffectOf(previous, next), effect));
  }
});

describe('a runner entry gives its pool settings', () => {
  it('idle_count and idle_time as written, and a budget of `limit` within `concurrent`', () => {
    assert.deepEqual(poolSettingsOf(runnerOf(), 10), { idleCount: 1, idleTimeSeconds: 600, maxVms: 4 });
    assert.equal(poolSettingsOf(runnerOf(), 2).maxVms, 2, '`concurrent` bounds it too');
    assert.equal(poolSettingsOf(runnerOf({ runner: ['limit = 0'] }), 3).maxVms, 3, 'limit = 0: concurrent alone');
    assert.equal(poolSettingsOf(runnerOf({ runner: ['limit = 0'] }), 0).maxVms, Number.MAX_SAFE_INTEGER, 'no bound at all');
  });
});
