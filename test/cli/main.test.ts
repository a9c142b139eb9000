import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { buildProgram, executeProgram } from '../../src/cli/main.js';
import { createCliContext } from '../../src/cli/context.js';
import { createSandbox } from './harness.js';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

test('a config mistake prints file:line and key without a stack and exits 1', async () => {
  const sandbox = await createSandbox();
  try {
    await mkdir(dirname(sandbox.configPath), { recursive: true });
    await writeFile(sandbox.configPath, 'concurrent = 1\n\n[[runners]]\n  limit = "x"\n');
    const result = await sandbox.run(['list']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      [
        `ERROR: ${sandbox.configPath}:3: runners[0].url: required key is missing`,
        `${sandbox.configPath}:3: runners[0].token: required key is missing`,
        `${sandbox.configPath}:3: runners[0].executor: required key is missing`,
        `${sandbox.configPath}:4: runners[0].limit: expected a non-negative integer, got "x"`,
        '',
      ].join('\n'),
    );
  } finally {
    await sandbox.cleanup();
  }
});

test('--log-format json applies to the messages the CLI prints', async () => {
  const sandbox = await createSandbox();
  try {
    const result = await sandbox.run(['--log-format', 'json', 'list']);
    assert.equal(result.code, 1);
    const record = JSON.parse(result.stderr) as Record<string, unknown>;
    assert.equal(record.level, 'error');
    assert.equal(record.msg, `${sandbox.configPath}: config file not found`);
  } finally {
    await sandbox.cleanup();
  }
});

test('an unexpected error is a bug: its stack is printed and the exit code is 1', async () => {
  let stderr = '';
  const context = createCliContext({
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  });
  const program = buildProgram(context);
  program.command('boom').action(() => {
    throw new TypeError('cannot read x of undefined');
  });
  assert.equal(await executeProgram(program, ['boom'], context), 1);
  assert.match(stderr, /^ERROR: unexpected error: TypeError: cannot read x of undefined\n\s+at /);
});

test('unknown commands and options exit 1; help and version exit 0', async () => {
  const sandbox = await createSandbox();
  try {
    const unknown = await sandbox.run(['frobnicate']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal((await sandbox.run(['list', '--bogus'])).code, 1);
    const help = await sandbox.run(['register', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--registration-token <token>/);
    const version = await sandbox.run(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  } finally {
    await sandbox.cleanup();
  }
});

test('bin/tart.js runs the CLI as a real process with its exit code', async () => {
  const sandbox = await createSandbox();
  try {
    await mkdir(dirname(sandbox.configPath), { recursive: true });
    await writeFile(
      sandbox.configPath,
      '[[runners]]\nname = "r1"\nurl = "https://gitlab.example.com/"\ntoken = "glrt-abcdefghijklmnop"\nexecutor = "firecracker"\n',
    );
    const ok = await execFileAsync(process.execPath, [join(ROOT, 'bin', 'tart.js'), 'list'], {
      env: { ...process.env, TART_CONFIG: sandbox.configPath, TART_FROM_SOURCE: '1' },
    });
    assert.equal(ok.stdout, 'r1  Executor=firecracker Token=abcdefghi URL=https://gitlab.example.com/\n');
    await assert.rejects(
      execFileAsync(
        process.execPath,
        [join(ROOT, 'bin', 'tart.js'), 'list', '--config', join(sandbox.dir, 'none.toml')],
        {
          env: { ...process.env, TART_FROM_SOURCE: '1' },
        },
      ),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /none\.toml: config file not found/);
        return true;
      },
    );
  } finally {
    await sandbox.cleanup();
  }
});

test("config.toml's log settings apply to the CLI logger unless a flag overrides them", async () => {
  const { applyConfigLogging } = await import('../../src/cli/context.js');
  let stderr = '';
  const context = createCliContext({
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  });
  const program = buildProgram(context);
  program.command('probe').action((_flags: unknown, command: Command) => {
    applyConfigLogging(command, { logLevel: 'debug', logFormat: 'json' }).debug('probe', { k: 1 });
  });
  assert.equal(await executeProgram(program, ['probe'], context), 0);
  assert.deepEqual(JSON.parse(stderr), { k: 1, level: 'debug', msg: 'probe', time: JSON.parse(stderr).time });
  stderr = '';
  assert.equal(await executeProgram(buildProgramWithProbe(), ['--log-level', 'info', 'probe'], context), 0);
  assert.equal(stderr, '', 'the --log-level flag wins over log_level');

  function buildProgramWithProbe() {
    const again = buildProgram(context);
    again.command('probe').action((_flags: unknown, command: Command) => {
      applyConfigLogging(command, { logLevel: 'debug', logFormat: 'json' }).debug('probe');
    });
    return again;
  }
});
