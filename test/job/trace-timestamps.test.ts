// FF_TIMESTAMPS: gitlab-runner's per-line trace headers (common/buildlogger/internal/timestamper),
// the expected bytes taken from its timestamper_test.go, and their place in the TraceWriter (after
// masking; stream 00 for runner lines, 01 O/E for stage output).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createSecretMasker, maskText } from '../../src/masking/secret-masker.js';
import { TraceWriter, type TraceMasking } from '../../src/job/trace-writer.js';
import { LineTimestamper, createMicrosClock, type MicrosClock } from '../../src/job/trace-timestamps.js';
import { traceAsShown } from '../support/trace-view.js';
import { createJobHarness, type JobHarness } from './support/job-harness.js';

const MICROS = 1_000_000;

// gitlab-runner's setupDummyTime: starts at 2021-01-01T00:00:00.020010Z, one hour later per call.
function hourlyClock(): MicrosClock {
  let now = Date.parse('2021-01-01T00:00:00Z') * 1000 + 20_010;
  return () => (now += 3600 * MICROS);
}

function run(writes: string[], options: { streamId?: number; stderr?: boolean; clock?: MicrosClock } = {}) {
  const stamper = new LineTimestamper({
    streamId: options.streamId ?? 255,
    stderr: options.stderr ?? true,
    clock: options.clock ?? hourlyClock(),
  });
  const out = writes.map((write) => stamper.write(Buffer.from(write)));
  return Buffer.concat([...out, stamper.close()]).toString();
}

describe('LineTimestamper (gitlab-runner timestamper_test.go)', () => {
  it('prefixes every line, flushes a write with \\r as its own entry and marks the next one +', () => {
    const writes = [
      'PREFIX This is the beginning of a new line\n',
      'PREFIX This is a split ',
      'up ',
      'line\n',
      'PREFIX Progress bar: ',
      ...Array.from({ length: 10 }, () => '.\r'),
      'Done.\r\n',
      'PREFIX Another windows new-line\r\n',
      'PREFIX multiple\nnew\nlines\nin\none\n',
      '\nstart',
      '\nend\n',
      'PREFIX Eat carriages\r\r\r\r\r\r\r\n',
      'PREFIX This is across\ntwo lines\n',
      'PREFIX The end',
    ];
    const expected = [
      '2021-01-01T01:00:00.020010Z ffE PREFIX This is the beginning of a new line\n',
      '2021-01-01T02:00:00.020010Z ffE PREFIX This is a split up line\n',
      '2021-01-01T03:00:00.020010Z ffE PREFIX Progress bar: .\r\n',
      ...Array.from(
        { length: 9 },
        (_, index) => `2021-01-01T${String(4 + index).padStart(2, '0')}:00:00.020010Z ffE+.\r\n`,
      ),
      '2021-01-01T13:00:00.020010Z ffE+Done.\r\n',
      '2021-01-01T14:00:00.020010Z ffE PREFIX Another windows new-line\r\n',
      '2021-01-01T15:00:00.020010Z ffE PREFIX multiple\n',
      '2021-01-01T16:00:00.020010Z ffE new\n',
      '2021-01-01T17:00:00.020010Z ffE lines\n',
      '2021-01-01T18:00:00.020010Z ffE in\n',
      '2021-01-01T19:00:00.020010Z ffE one\n',
      '2021-01-01T20:00:00.020010Z ffE \n',
      '2021-01-01T21:00:00.020010Z ffE start\n',
      '2021-01-01T22:00:00.020010Z ffE end\n',
      '2021-01-01T23:00:00.020010Z ffE PREFIX Eat carriages\r\r\r\r\r\r\r\n',
      '2021-01-02T00:00:00.020010Z ffE PREFIX This is across\n',
      '2021-01-02T01:00:00.020010Z ffE two lines\n',
      '2021-01-02T02:00:00.020010Z ffE PREFIX The end\n',
    ];
    assert.equal(run(writes), expected.join(''));
  });

  it('writes text past 8 KiB without a newline as a split entry and continues it with +', () => {
    const writes = [
      'PREFIX This is the beginning of a new line\n',
      'We have no new line character in this write',
      '... The line is now flushed.\n',
      'large continuous write incoming',
      '.'.repeat(8192),
      '.'.repeat(8193),
      'ended\n',
    ];
    const expected = [
      '2021-01-01T01:00:00.020010Z ffE PREFIX This is the beginning of a new line\n',
      '2021-01-01T02:00:00.020010Z ffE We have no new line character in this write... The line is now flushed.\n',
      `2021-01-01T03:00:00.020010Z ffE large continuous write incoming${'.'.repeat(8192)}\n`,
      `2021-01-01T04:00:00.020010Z ffE+${'.'.repeat(8193)}\n`,
      '2021-01-01T05:00:00.020010Z ffE+ended\n',
    ];
    assert.equal(run(writes), expected.join(''));
  });

  it('keeps the bytes after a \\r (a section marker’s erase-line) in the same entry', () => {
    const out = run(['section_start:123:foo\r\x1b[0K', 'section_end:123:foo\r\x1b[0K'], {
      streamId: 1,
      stderr: false,
    });
    assert.equal(
      out,
      '2021-01-01T01:00:00.020010Z 01O section_start:123:foo\r\x1b[0K\n' +
        '2021-01-01T02:00:00.020010Z 01O+section_end:123:foo\r\x1b[0K\n',
    );
  });

  it('fills in the microseconds with leading zeros, also within one second', () => {
    const base = Date.parse('2021-06-15T12:34:56Z') * 1000;
    const offsets = [0, 1, 123, MICROS, MICROS + 7];
    let call = 0;
    const clock = () => base + (offsets[call++] ?? 0);
    const out = run(
      Array.from({ length: 5 }, () => 'line\n'),
      { streamId: 1, clock },
    );
    assert.equal(
      out,
      [
        '2021-06-15T12:34:56.000000Z 01E line\n',
        '2021-06-15T12:34:56.000001Z 01E line\n',
        '2021-06-15T12:34:56.000123Z 01E line\n',
        '2021-06-15T12:34:57.000000Z 01E line\n',
        '2021-06-15T12:34:57.000007Z 01E line\n',
      ].join(''),
    );
  });

  it('reads the wall clock in UTC, to the microsecond, never going backwards', () => {
    const clock = createMicrosClock();
    const before = Date.now() * 1000;
    const readings = Array.from({ length: 1000 }, clock);
    assert.ok(Math.abs((readings[0] ?? 0) - before) < 50_000);
    assert.ok(readings.every((reading, index) => index === 0 || reading >= (readings[index - 1] ?? 0)));
    const header = run(['x\n'], { clock }).slice(0, 32);
    assert.match(header, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ffE $/);
  });
});

// A TraceWriter into a collecting sink, with the real masker.
function writerFor(options: { secrets?: string[]; timestamps: boolean; traceSections?: boolean }) {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const values = options.secrets ?? [];
  const masking: TraceMasking = {
    createStreamMasker: () => createSecretMasker({ values }),
    maskText: (text) => maskText(text, values),
  };
  const trace = new TraceWriter({
    sink,
    masking,
    traceSections: options.traceSections ?? true,
    now: () => new Date('2021-01-01T00:00:00Z'),
    timestamps: options.timestamps,
    clock: hourlyClock(),
  });
  return { trace, raw: () => Buffer.concat(chunks).toString() };
}

describe('TraceWriter with FF_TIMESTAMPS', () => {
  it('stamps runner lines as stream 00O, stage stdout as 01O and stderr as 01E', async () => {
    const { trace, raw } = writerFor({ timestamps: true });
    trace.plain('Running with tart');
    trace.sectionStart('step_script', 'Executing "step_script" stage of the job script');
    const output = trace.openStageOutput();
    output.stdout.write('out line\n');
    await trace.flush();
    output.stderr.write('err line\n');
    await output.close();
    trace.sectionEnd('step_script');
    trace.info('Job succeeded');
    await trace.finish();
    assert.equal(
      raw(),
      [
        '2021-01-01T01:00:00.020010Z 00O \x1b[0KRunning with tart\x1b[0;m\n',
        '2021-01-01T02:00:00.020010Z 00O section_start:1609459200:step_script\r\x1b[0K\n',
        '2021-01-01T03:00:00.020010Z 00O+\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m\x1b[0;m\n',
        '2021-01-01T04:00:00.020010Z 01O out line\n',
        '2021-01-01T05:00:00.020010Z 01E err line\n',
        '2021-01-01T06:00:00.020010Z 00O section_end:1609459200:step_script\r\x1b[0K\n',
        '2021-01-01T07:00:00.020010Z 00O+\x1b[32;1mJob succeeded\x1b[0;m\n',
      ].join(''),
    );
  });

  it('masks before stamping: a secret split across writes and across an 8 KiB split entry', async () => {
    const secret = 's3cr3t-v4lue';
    const { trace, raw } = writerFor({ secrets: [secret], timestamps: true });
    const output = trace.openStageOutput();
    output.stdout.write(`first ${secret.slice(0, 5)}`);
    output.stdout.write(`${secret.slice(5)} end\n`);
    // The secret reaches the 8 KiB point where a line without newline is written as a split entry.
    output.stdout.write(`${'a'.repeat(8180)}${secret.slice(0, 6)}`);
    output.stdout.write(`${secret.slice(6)}${'b'.repeat(10)}`);
    output.stdout.write('c\n');
    await output.close();
    await trace.finish();
    const text = raw();
    assert.doesNotMatch(text, /s3cr3t|v4lue/);
    assert.equal(
      text,
      '2021-01-01T01:00:00.020010Z 01O first [MASKED] end\n' +
        `2021-01-01T02:00:00.020010Z 01O ${'a'.repeat(8180)}[MASKED]${'b'.repeat(10)}\n` +
        '2021-01-01T03:00:00.020010Z 01O+c\n',
    );
    assert.equal(traceAsShown(text), `first [MASKED] end\n${'a'.repeat(8180)}[MASKED]${'b'.repeat(10)}c\n`);
  });

  it('ends a stage’s unfinished line with a newline when the stage closes', async () => {
    const { trace, raw } = writerFor({ timestamps: true, traceSections: false });
    const output = trace.openStageOutput();
    output.stdout.write('no newline at the end');
    await output.close();
    trace.plain('next');
    await trace.finish();
    assert.equal(
      raw(),
      '2021-01-01T01:00:00.020010Z 01O no newline at the end\n' +
        '2021-01-01T02:00:00.020010Z 00O \x1b[0Knext\x1b[0;m\n',
    );
  });

  it('writes no timestamps with the flag off: the same bytes as before', async () => {
    const { trace, raw } = writerFor({ timestamps: false });
    trace.plain('Running with tart');
    trace.sectionStart('step_script', 'Executing "step_script" stage of the job script');
    const output = trace.openStageOutput();
    output.stdout.write('out line\n');
    await output.close();
    trace.sectionEnd('step_script');
    await trace.finish();
    assert.equal(
      raw(),
      '\x1b[0KRunning with tart\x1b[0;m\n' +
        'section_start:1609459200:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m\x1b[0;m\n' +
        'out line\nsection_end:1609459200:step_script\r\x1b[0K',
    );
  });
});

describe('the trace as GitLab shows it (test view)', () => {
  it('hides the headers and joins + entries back onto their line', () => {
    const writes = ['a\nb', 'c\r', 'd\n', '.'.repeat(9000), 'e\n'];
    assert.equal(traceAsShown(run(writes)), writes.join(''));
    assert.equal(traceAsShown('no headers\r\n'), 'no headers\r\n');
  });
});

describe('runJob and FF_TIMESTAMPS (shell executor, real bash)', () => {
  const HEADER = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]/;
  let harness: JobHarness;

  before(async () => {
    harness = await createJobHarness();
  });

  after(async () => {
    await harness.cleanup();
  });

  const lines = (raw: Buffer) => raw.toString().split('\n').slice(0, -1);

  it('timestamps every line by default (gitlab-runner 18.7+): runner 00O, stdout 01O, stderr 01E', async () => {
    const result = await harness.run(harness.job({ script: ['echo to-stdout', 'echo to-stderr >&2'] }));
    assert.equal(result.outcome.state, 'success', result.trace.slice(-2000));
    const raw = lines(result.rawTrace);
    assert.ok(
      raw.every((line) => HEADER.test(line)),
      'every line has a header',
    );
    assert.match(raw[0] ?? '', /^\S+Z 00O \x1b\[0KRunning with tart/);
    assert.ok(raw.some((line) => / 01O to-stdout$/.test(line)));
    assert.ok(raw.some((line) => / 01E to-stderr$/.test(line)));
    assert.match(raw.at(-1) ?? '', / 00O[ +]\x1b\[32;1mJob succeeded/);
    assert.match(result.trace, /^to-stdout$/m);
  });

  it('writes none when the job sets FF_TIMESTAMPS=false', async () => {
    const result = await harness.run(
      harness.job({ script: ['echo plain'], variables: [{ key: 'FF_TIMESTAMPS', value: 'false' }] }),
    );
    assert.equal(result.outcome.state, 'success');
    assert.ok(lines(result.rawTrace).every((line) => !HEADER.test(line)));
    assert.equal(result.rawTrace.toString(), result.trace);
    assert.match(result.trace, /feature flags: FF_TIMESTAMPS:false/);
  });

  it('lets [runners.feature_flags] win over the job variable', async () => {
    harness.runner.featureFlags = { FF_TIMESTAMPS: false };
    try {
      const result = await harness.run(
        harness.job({ script: ['echo plain'], variables: [{ key: 'FF_TIMESTAMPS', value: 'true' }] }),
      );
      assert.ok(lines(result.rawTrace).every((line) => !HEADER.test(line)));
    } finally {
      delete harness.runner.featureFlags;
    }
  });
});
