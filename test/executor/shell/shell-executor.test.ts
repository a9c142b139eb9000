import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { groupMembers } from '../../../src/process/process-group.js';
import { ShellExecutor } from '../../../src/executor/shell/index.js';
import type { JobEnvironment } from '../../../src/executor/types.js';
import type { JobPayload } from '../../../src/model/payload.js';
import { waitFor } from '../../support/wait-for.js';

// The executor never reads the payload; prepare only needs something typed.
const job = {} as JobPayload;

function collector(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('ShellExecutor', () => {
  let root: string;
  let env: JobEnvironment;
  const logged: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tart-shell-'));
    const executor = new ShellExecutor({ buildsDir: join(root, 'builds'), killGraceMs: 300 });
    env = await executor.prepare({
      job,
      log: (line) => logged.push(line),
      signal: new AbortController().signal,
    });
  });

  after(async () => {
    await env.close();
    await rm(root, { recursive: true, force: true });
  });

  it('creates the builds dir, says which executor it is and is not disposable', async () => {
    assert.equal((await stat(join(root, 'builds'))).isDirectory(), true);
    assert.deepEqual(logged, ['Using Shell (bash) executor...']);
    assert.equal(env.executorName, 'shell');
    assert.equal(env.disposable, false);
    assert.equal(env.buildsDir, join(root, 'builds'));
  });

  it('feeds a script on stdin to bash and passes stdout, stderr and the exit code through', async () => {
    const stdout = collector();
    const stderr = collector();
    const result = await env.exec({
      command: ['bash'],
      stdin: 'echo out; echo err >&2; pwd; exit 7\n',
      stdout: stdout.stream,
      stderr: stderr.stream,
    });
    assert.equal(result.exitCode, 7);
    assert.equal(stdout.text(), `out\n${join(root, 'builds')}\n`);
    assert.equal(stderr.text(), 'err\n');
    assert.equal(stdout.stream.writableEnded, false, 'the caller’s streams are never ended');
  });

  it('streams a Readable stdin and honours cwd and extra env', async () => {
    const stdout = collector();
    const result = await env.exec({
      command: ['sh', '-c', 'cat; echo "$EXTRA"; pwd'],
      stdin: Readable.from([Buffer.from('a'), Buffer.from('b\n')]),
      env: { EXTRA: 'x y' },
      cwd: root,
      stdout: stdout.stream,
    });
    assert.equal(result.exitCode, 0);
    assert.equal(stdout.text(), `ab\nx y\n${root}\n`);
  });

  it('gives an empty stdin when none is given and reports 128+N for a signal', async () => {
    const stdout = collector();
    const result = await env.exec({
      command: ['sh', '-c', 'cat; echo done; kill -9 $$'],
      stdout: stdout.stream,
    });
    assert.equal(stdout.text(), 'done\n');
    assert.equal(result.exitCode, 128 + 9);
  });

  it('rejects when the command cannot be started', async () => {
    await assert.rejects(env.exec({ command: ['/nonexistent/tart-command'] }), { code: 'EXEC_FAILED' });
  });

  it('kills the whole process group on abort and rejects with the reason', async () => {
    const controller = new AbortController();
    const stdout = collector();
    const execution = env.exec({
      command: ['bash', '-c', 'trap "" TERM; (sleep 30; echo late) & echo "started $$"; sleep 30'],
      stdout: stdout.stream,
      signal: controller.signal,
    });
    await waitFor(() => stdout.text().includes('started'), 5000);
    const pid = Number(/started (\d+)/.exec(stdout.text())?.[1]);
    // bash, the background subshell and the sleeps all run in the one group.
    await waitFor(() => groupMembers(pid).length >= 3, 5000);
    const started = Date.now();
    controller.abort({ kind: 'canceled' });
    await assert.rejects(execution, (error) => (error as { kind: string }).kind === 'canceled');
    // SIGKILL is delivered asynchronously: a killed process can linger in /proc for a moment.
    await waitFor(() => groupMembers(pid).length === 0, 1000).catch(() => undefined);
    assert.ok(Date.now() - started < 2000, 'ends well within 2 s even when bash ignores SIGTERM');
    assert.deepEqual(groupMembers(pid), [], 'no process of the group is left');
    assert.equal(stdout.text().includes('late'), false);
  });

  it('does not wait for a background process holding stdout open, and close() kills it', async () => {
    const executor = new ShellExecutor({ buildsDir: join(root, 'builds'), outputDrainMs: 200 });
    const own = await executor.prepare({ job, log: () => undefined, signal: new AbortController().signal });
    const stdout = collector();
    const result = await own.exec({ command: ['bash', '-c', 'sleep 30 & echo $$'], stdout: stdout.stream });
    assert.equal(result.exitCode, 0);
    const pgid = Number(stdout.text().trim());
    assert.ok(groupMembers(pgid).length > 0, 'the background sleep is still running');
    await own.close();
    await waitFor(() => groupMembers(pgid).length === 0, 2000);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await assert.rejects(env.exec({ command: ['true'], signal: controller.signal }), /gone/);
  });
});
