import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type LoggerOptions } from '../../src/log/logger.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    now: () => NOW,
    ...options,
    stream: { write: (chunk) => lines.push(chunk) },
  });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

test('json lines carry level, message, time and the fields of the logger and its children', () => {
  const { logger, records } = capture({ format: 'json' });
  const jobLogger = logger.child({ runner: 'abc123' }).child({ job: 123 });
  jobLogger.info('Job succeeded', { duration_s: 4.5 });
  logger.warn('plain');
  assert.deepEqual(records(), [
    {
      runner: 'abc123',
      job: 123,
      duration_s: 4.5,
      level: 'info',
      msg: 'Job succeeded',
      time: NOW.toISOString(),
    },
    { level: 'warn', msg: 'plain', time: NOW.toISOString() },
  ]);
});

test('lines below the level are dropped, and configure changes the level for the whole family', () => {
  const { logger, records } = capture({ format: 'json', level: 'warn' });
  const child = logger.child({ job: 1 });
  child.info('hidden');
  child.error('shown');
  logger.configure({ level: 'debug' });
  child.debug('now shown');
  assert.deepEqual(
    records().map((record) => [record.level, record.msg]),
    [
      ['error', 'shown'],
      ['debug', 'now shown'],
    ],
  );
  assert.equal(logger.isEnabled('debug'), true);
});

test('registered secrets are masked in messages and fields of every logger in the family', () => {
  const { logger, lines } = capture({ format: 'json' });
  const child = logger.child({ url: 'https://x/?token=glrt-SECRET-1' });
  child.addSecret('glrt-SECRET-1');
  logger.error('request failed for glrt-SECRET-1', {
    error: new Error('bad token glrt-SECRET-1'),
    nested: { t: 'glrt-SECRET-1' },
  });
  child.info('hi');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.doesNotMatch(line, /glrt-SECRET-1/);
  const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  assert.equal(first.msg, 'request failed for [MASKED]');
  assert.equal(first.error, 'bad token [MASKED]');
  assert.equal(first.nested, '{"t":"[MASKED]"}');
  assert.equal((JSON.parse(lines[1] ?? '{}') as Record<string, unknown>).url, 'https://x/?token=[MASKED]');
});

test('a secret containing characters that JSON escapes is still masked', () => {
  const { logger, lines } = capture({ format: 'json' });
  logger.addSecret('pa"ss\\word');
  logger.info('x', { value: 'pa"ss\\word' });
  assert.equal((JSON.parse(lines[0] ?? '{}') as Record<string, unknown>).value, '[MASKED]');
});

test('the runner format is gitlab-runner console style: level prefix, padded message, sorted key=value', () => {
  const { logger, lines } = capture({ format: 'runner' });
  logger.child({ runner: 'abc', job: 7 }).warn('Job failed', { reason: 'exit code 1' });
  logger.info('Runtime platform');
  assert.deepEqual(lines, [
    `${'WARNING: Job failed'.padEnd(44)} job=7 reason="exit code 1" runner=abc\n`,
    'Runtime platform\n',
  ]);
});

test('the text format is logrus key=value with time, level and msg first', () => {
  const { logger, lines } = capture({ format: 'text' });
  logger.error('Checking for jobs... failed', { runner: 'abc', status: 403 });
  assert.deepEqual(lines, [
    'time=2026-01-02T03:04:05.000Z level=error msg="Checking for jobs... failed" runner=abc status=403\n',
  ]);
});
