import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineOutput } from '../../src/exec/output.js';

function capture(isTTY: boolean) {
  const written = { stdout: '', stderr: '' };
  const output = new PipelineOutput({
    stdout: { write: (text: string) => (written.stdout += text) },
    stderr: { write: (text: string) => (written.stderr += text) },
    isTTY,
  });
  return { output, written };
}

async function feed(output: PipelineOutput, job: string, chunks: string[]): Promise<void> {
  const trace = output.jobTrace(job);
  for (const chunk of chunks) trace.write(chunk);
  await new Promise<void>((resolve) => trace.end(resolve));
}

const TRACE = [
  'section_start:1700000000:get_sources\r\x1b[0K\x1b[0K\x1b[36;1mGetting source',
  ' from Git repository\x1b[0;m\n',
  'Downloading 10%\rDownloading 100%\n',
  '\x1b[32;1mJob succeeded\x1b[0;m\nsection_end:1700000001:get_sources\r\x1b[0K',
  'no newline at the end',
];

describe('what a person sees', () => {
  it('prefixes every trace line with the job, drops section markers and colours off a TTY', async () => {
    const { output, written } = capture(false);
    await feed(output, 'build', TRACE);
    assert.equal(
      written.stdout,
      '[build] Getting source from Git repository\n[build] Downloading 100%\n[build] Job succeeded\n[build] no newline at the end\n',
    );
  });

  it('keeps characters whole when a chunk splits them', async () => {
    const { output, written } = capture(false);
    const bytes = Buffer.from('größe ✓\n');
    const trace = output.jobTrace('utf8');
    trace.write(bytes.subarray(0, 3));
    trace.write(bytes.subarray(3, 9));
    trace.write(bytes.subarray(9));
    await new Promise<void>((resolve) => trace.end(resolve));
    assert.equal(written.stdout, '[utf8] größe ✓\n');
  });

  it('keeps colours and colours the job prefix on a TTY', async () => {
    const { output, written } = capture(true);
    await feed(output, 'test', ['\x1b[32;1mJob succeeded\x1b[0;m\n']);
    assert.equal(written.stdout, '\x1b[36m[test]\x1b[0m \x1b[32;1mJob succeeded\x1b[0;m\n');
  });

  it('prints a summary table of job, stage, status and duration', () => {
    const { output, written } = capture(false);
    output.summary([
      { name: 'build', stage: 'build', status: 'success', durationMs: 2500 },
      { name: 'unit-tests', stage: 'test', status: 'failed', durationMs: 61_000, attempts: 2 },
      { name: 'deploy', stage: 'deploy', status: 'skipped' },
    ]);
    assert.equal(
      written.stdout,
      [
        '',
        'JOB         STAGE   STATUS               DURATION',
        'build       build   success                  2.5s',
        'unit-tests  test    failed (2 attempts)     1m01s',
        'deploy      deploy  skipped                     -',
        '',
      ].join('\n'),
    );
  });
});
