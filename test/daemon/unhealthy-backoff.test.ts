// GitLab unreachable (a closed loopback port): after unhealthy_requests_limit failed requests the
// runner is not polled for unhealthy_interval, then checked once again; the log says so once,
// instead of a warning every check_interval forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon } from './daemon-harness.js';

async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface LogRecord {
  msg: string;
  time: string;
}

test('an unreachable GitLab disables the runner after unhealthy_requests_limit failures for unhealthy_interval', async () => {
  const port = await closedLoopbackPort();
  const harness = await startDaemon({
    url: `http://127.0.0.1:${port}`,
    token: 'glrt-unreachable-token',
    runnerToml: 'unhealthy_requests_limit = 2\nunhealthy_interval = "3s"',
  });
  try {
    await delay(7_000);
  } finally {
    await harness.cleanup();
  }
  const records = harness
    .logs()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LogRecord);
  const at = (msg: string) =>
    records.filter((record) => record.msg === msg).map((record) => Date.parse(record.time));
  const failures = at('checking for jobs failed');
  const disabled = at('runner is not healthy and will be disabled');
  const rechecked = at('runner is not healthy, but will be checked');
  // check_interval = 1: each request (with its network retries) takes about 1 s; without the back-off 6 or 7 failures.
  assert.ok(failures.length >= 2 && failures.length <= 4, `failures: ${failures.length}`);
  assert.ok(disabled.length >= 1, 'the pause is logged');
  assert.equal(rechecked.length, 1, 'one re-check after the pause');
  const [, second = 0, third] = failures;
  const recheck = rechecked[0] ?? 0;
  assert.ok((disabled[0] ?? 0) >= second, 'disabled by the second failure');
  assert.ok(recheck - second >= 2_900, `no request during unhealthy_interval (gap ${recheck - second} ms)`);
  if (third !== undefined) assert.ok(third >= recheck, 'the third request is the re-check');
  assert.doesNotMatch(harness.logs(), /glrt-unreachable-token/);
});
