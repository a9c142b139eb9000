// The polling schedule without HTTP: limits, request slots and burst pickup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunnerState } from '../../src/daemon/runner-state.js';
import { Scheduler } from '../../src/daemon/scheduler.js';

function runner(name: string, limit: number) {
  return { name, state: new RunnerState({ limit, requestConcurrency: 1, unhealthyRequestsLimit: 3, unhealthyIntervalMs: 60_000 }) };
}

test('never runs more than `limit` jobs of a runner, nor more than `concurrent` in all', async () => {
  const entries = [runner('a', 1), runner('b', 0)];
  let queued = 12;
  let running = 0;
  let peak = 0;
  const perRunner = new Map<string, number>();
  let peakA = 0;
  const scheduler = new Scheduler({
    runners: entries,
    concurrent: 3,
    checkIntervalMs: 20,
    requestJob: async () => (queued > 0 ? (queued -= 1, {}) : undefined),
    runJob: async (entry) => {
      running += 1;
      perRunner.set(entry.name, (perRunner.get(entry.name) ?? 0) + 1);
      peak = Math.max(peak, running);
      if (entry.name === 'a') peakA = Math.max(peakA, entry.state.runningJobs);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
    },
  });
  scheduler.start();
  while (queued > 0 || running > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  scheduler.stopRequesting();
  await scheduler.whenStopped();
  assert.ok(peak <= 3, `peak ${peak}`);
  assert.equal(peakA, 1);
  assert.equal([...perRunner.values()].reduce((sum, n) => sum + n, 0), 12);
});

test('an unhealthy runner is skipped after three forbidden answers', () => {
  const state = new RunnerState({ limit: 0, requestConcurrency: 1, unhealthyRequestsLimit: 3, unhealthyIntervalMs: 60_000 });
  for (let i = 0; i < 3; i += 1) state.recordHealth(false, 1000);
  assert.equal(state.isHealthy(1000), false);
  assert.equal(state.isHealthy(61_001), true);
});
