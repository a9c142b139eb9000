import assert from 'node:assert/strict';
import { PassThrough, Transform, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { mapFailureReason, failureOutcome } from '../../src/job/failure.js';
import { formatGoDuration, parseGoDuration } from '../../src/model/go-duration.js';
import { headerLines } from '../../src/job/header.js';
import { JobControl } from '../../src/job/job-control.js';
import { jobTimeoutMessage, jobTimeoutMs, readEngineSettings } from '../../src/job/settings.js';
import { TraceWriter, type TraceMasking } from '../../src/job/trace-writer.js';
import { createSecretMasker, maskText } from '../../src/masking/secret-masker.js';

describe('Go durations', () => {
  it('formats like Go’s Duration.String()', () => {
    assert.equal(formatGoDuration(3_600_000), '1h0m0s');
    assert.equal(formatGoDuration(90_000), '1m30s');
    assert.equal(formatGoDuration(5000), '5s');
    assert.equal(formatGoDuration(1500), '1.5s');
    assert.equal(formatGoDuration(500), '500ms');
    assert.equal(formatGoDuration(0), '0s');
  });

  it('parses Go duration syntax and rejects anything else', () => {
    assert.equal(parseGoDuration('90s'), 90_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('-5m'), -300_000);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('10'), undefined);
    assert.equal(parseGoDuration('ten minutes'), undefined);
    assert.equal(parseGoDuration(''), undefined);
  });
});

describe('engine settings', () => {
  const lookup = (values: Record<string, string>) => (key: string) => values[key];

  it('defaults to one attempt each, 5 min after_script, no script timeout, errors ignored', () => {
    const settings = readEngineSettings(lookup({}), 3_600_000);
    assert.deepEqual(settings, {
      getSourcesAttempts: 1,
      restoreCacheAttempts: 1,
      artifactDownloadAttempts: 1,
      executorJobSectionAttempts: 1,
      afterScriptTimeoutMs: 300_000,
      scriptTimeoutMs: undefined,
      afterScriptIgnoreErrors: true,
      warnings: [],
    });
  });

  it('clamps attempts to [1, 10] and rejects non-integers with gitlab-runner’s warnings', () => {
    const settings = readEngineSettings(
      lookup({ GET_SOURCES_ATTEMPTS: '12', RESTORE_CACHE_ATTEMPTS: 'x', ARTIFACT_DOWNLOAD_ATTEMPTS: '3' }),
      3_600_000,
    );
    assert.equal(settings.getSourcesAttempts, 10);
    assert.equal(settings.restoreCacheAttempts, 1);
    assert.equal(settings.artifactDownloadAttempts, 3);
    assert.deepEqual(settings.warnings, [
      'GET_SOURCES_ATTEMPTS: number of attempts out of the range [1, 10], clamping to: 10',
      'RESTORE_CACHE_ATTEMPTS: expected int got "x", using default value: 1',
    ]);
  });

  it('reads after_script and script timeouts, capping the script timeout at the job timeout', () => {
    const settings = readEngineSettings(
      lookup({
        AFTER_SCRIPT_TIMEOUT: '90s',
        RUNNER_SCRIPT_TIMEOUT: '2h',
        AFTER_SCRIPT_IGNORE_ERRORS: 'false',
      }),
      3_600_000,
    );
    assert.equal(settings.afterScriptTimeoutMs, 90_000);
    assert.equal(settings.scriptTimeoutMs, 3_600_000);
    assert.equal(settings.afterScriptIgnoreErrors, false);
    assert.deepEqual(settings.warnings, [
      'RUNNER_SCRIPT_TIMEOUT timeout: 2h is longer than job timeout. Setting to job timeout',
    ]);
    assert.deepEqual(readEngineSettings(lookup({ RUNNER_SCRIPT_TIMEOUT: 'soon' }), 1000).warnings, [
      'Ignoring malformed RUNNER_SCRIPT_TIMEOUT timeout: soon',
    ]);
  });

  it('uses 7200 s when GitLab sends no positive timeout, and words the message as gitlab-runner does', () => {
    assert.equal(jobTimeoutMs(0), 7_200_000);
    assert.equal(jobTimeoutMs(-1), 7_200_000);
    assert.equal(jobTimeoutMs(3600), 3_600_000);
    assert.equal(jobTimeoutMessage(3_600_000), 'execution took longer than 1h0m0s seconds');
  });
});

describe('failure reasons', () => {
  it('sends a reason GitLab lists, and maps the others as gitlab-runner does', () => {
    assert.equal(mapFailureReason('script_failure', []), 'script_failure');
    assert.equal(mapFailureReason('runner_interrupted', ['runner_interrupted']), 'runner_interrupted');
    assert.equal(mapFailureReason('runner_interrupted', []), 'unknown_failure');
    assert.equal(mapFailureReason('job_canceled', ['script_failure']), 'unknown_failure');
    assert.equal(
      mapFailureReason('artifact_download_failure', ['artifact_download_failure']),
      'artifact_download_failure',
    );
    assert.equal(mapFailureReason('artifact_download_failure', []), 'script_failure');
  });

  it('reports a script failure with its exit code and a system failure as such', () => {
    assert.deepEqual(failureOutcome({ kind: 'script', exitCode: 3 }, {}), {
      state: 'failed',
      failureReason: 'script_failure',
      exitCode: 3,
      message: 'Job failed: exit code 3',
    });
    assert.deepEqual(failureOutcome({ kind: 'system', message: 'vm died' }, {}), {
      state: 'failed',
      failureReason: 'runner_system_failure',
      message: 'Job failed (system failure): vm died',
    });
  });
});

describe('header', () => {
  it('shows version, revision, runner name and the 9-character short token', () => {
    const runner = {
      name: 'r1',
      token: 'glrt-t1_AbCdEfGhIjKl',
      environment: [],
      cacheDir: '/c',
      version: '1.2.3',
      revision: 'deadbeef',
    };
    assert.deepEqual(headerLines(runner), ['Running with tart 1.2.3 (deadbeef)', '  on r1 AbCdEfGhI']);
    assert.deepEqual(
      headerLines({ ...runner, systemId: 's_0123456789ab' })[1],
      '  on r1 AbCdEfGhI, system ID: s_0123456789ab',
    );
  });
});

describe('JobControl', () => {
  it('a graceful cancel stops only the script; a hard cancel stops everything', () => {
    const cancel = new AbortController();
    const control = new JobControl({ cancel: cancel.signal, timeoutMs: 60_000 });
    cancel.abort({ kind: 'canceling' });
    assert.equal(control.script.aborted, true);
    assert.equal(control.job.aborted, false);
    control.dispose();

    const hard = new AbortController();
    const other = new JobControl({ cancel: hard.signal, timeoutMs: 60_000 });
    hard.abort({ kind: 'canceled' });
    assert.equal(other.job.aborted, true);
    assert.deepEqual(other.jobStop, { kind: 'canceled' });
    other.dispose();
  });

  it('stops the job with a timeout reason at the deadline', async () => {
    const control = new JobControl({ cancel: new AbortController().signal, timeoutMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(control.jobStop, { kind: 'timeout' });
    control.dispose();
  });
});

describe('TraceWriter', () => {
  const secret = 'hunter2-very-secret';
  const masking: TraceMasking = {
    createStreamMasker: () => createSecretMasker({ values: [secret] }),
    maskText: (text) => maskText(text, [secret]),
  };

  function sink(): { stream: Writable; text: () => string } {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  }

  it('masks the engine’s lines and stage output split across writes, keeping their order', async () => {
    const out = sink();
    const trace = new TraceWriter({
      sink: out.stream,
      masking,
      traceSections: true,
      now: () => new Date(1_700_000_000_000),
    });
    trace.sectionStart('step_script', 'Executing "step_script" stage of the job script');
    const stage = trace.openStageOutput();
    stage.stderr.write(`err ${secret}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    stage.stdout.write('value: hunter2-');
    stage.stdout.write('very-secret\n');
    await stage.close();
    trace.sectionEnd('step_script');
    trace.error(`Job failed: ${secret}`);
    await trace.finish();
    assert.equal(
      out.text(),
      'section_start:1700000000:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m\x1b[0;m\n' +
        'err [MASKED]\nvalue: [MASKED]\n' +
        'section_end:1700000000:step_script\r\x1b[0K' +
        '\x1b[31;1mERROR: Job failed: [MASKED]\x1b[0;m\n',
    );
  });

  it('prints headers without section markers when trace_sections is off', async () => {
    const out = sink();
    const trace = new TraceWriter({ sink: out.stream, masking, traceSections: false });
    trace.sectionStart('get_sources', 'Getting source from Git repository');
    trace.sectionEnd('get_sources');
    trace.warning('Retrying...');
    await trace.finish();
    assert.equal(
      out.text(),
      '\x1b[0K\x1b[36;1mGetting source from Git repository\x1b[0;m\x1b[0;m\n\x1b[0;33mWARNING: Retrying...\x1b[0;m\n',
    );
  });

  it('keeps going when the sink breaks', async () => {
    const broken = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('disk full')) });
    const trace = new TraceWriter({
      sink: broken,
      masking: {
        createStreamMasker: () => new Transform({ transform: (c, _e, cb) => cb(null, c) }),
        maskText: (t) => t,
      },
      traceSections: true,
    });
    trace.plain('one');
    trace.plain('two');
    await trace.finish();
  });
});
