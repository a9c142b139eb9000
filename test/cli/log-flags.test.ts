// --log-level/--log-format on the command line win over config.toml's log_level/log_format, for
// the daemon too (it applies the config's settings when it starts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { createSandbox } from './harness.js';

async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

test("tart run-single logs in the flags' format and level, not the config's", async () => {
  const sandbox = await createSandbox();
  try {
    await mkdir(dirname(sandbox.configPath), { recursive: true });
    const url = `http://127.0.0.1:${await closedLoopbackPort()}`;
    await writeFile(
      sandbox.configPath,
      [
        'log_level = "debug"',
        'log_format = "text"',
        'check_interval = 1',
        '[[runners]]',
        'name = "only"',
        `url = "${url}"`,
        'token = "glrt-flags-token"',
        'executor = "shell"',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const result = await sandbox.run([
      '--log-format',
      'json',
      '--log-level',
      'error',
      'run-single',
      '--wait-timeout',
      '2',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const records = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    assert.ok(records.length > 0, 'the failed requests are logged');
    assert.deepEqual([...new Set(records.map((record) => record.level))], ['error']);
    assert.ok(records.some((record) => record.msg === 'checking for jobs failed'));

    const configOnly = await sandbox.run(['run-single', '--wait-timeout', '1']);
    assert.equal(configOnly.code, 0);
    assert.match(
      configOnly.stderr,
      /level=debug|level=info/,
      "without flags the config's text format and level apply",
    );
  } finally {
    await sandbox.cleanup();
  }
});
