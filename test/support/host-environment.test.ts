import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createHostEnvironment, execText, type HostEnvironment } from './host-environment.js';

describe('host test environment', () => {
  let env: HostEnvironment;
  before(async () => {
    env = await createHostEnvironment();
  });
  after(() => env.close());

  it('runs argv without a shell, with cwd, env and stdin as given', async () => {
    assert.equal(await execText(env, ['printf', '%s|', 'a b', '$HOME']), 'a b|$HOME|');
    assert.equal(await execText(env, ['pwd']), `${env.root}\n`);
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const { exitCode } = await env.exec({
      command: ['sh', '-c', 'cat; echo "$X"'],
      stdin: Readable.from(['in', 'put\n']),
      env: { X: 'y' },
      stdout,
    });
    assert.equal(exitCode, 0);
    assert.equal(text, 'input\ny\n');
    assert.equal(stdout.writableEnded, false, 'exec never ends the streams it writes to');
  });

  it('ends stdin when its source failed before the command started', async () => {
    const source = new PassThrough();
    source.on('error', () => undefined);
    source.destroy(new Error('source failed early'));
    await sleep(10);
    const result = await env.exec({ command: ['cat'], stdin: source });
    assert.equal(result.exitCode, 0);
  });

  it('reports exit codes, 127 for a missing command, and 128+N for a signal', async () => {
    assert.equal((await env.exec({ command: ['sh', '-c', 'exit 3'] })).exitCode, 3);
    assert.equal((await env.exec({ command: ['no-such-command-tart'] })).exitCode, 127);
    assert.equal((await env.exec({ command: ['sh', '-c', 'kill -TERM $$'] })).exitCode, 143);
  });

  it('kills the whole process tree on abort and rejects with the reason', async () => {
    const controller = new AbortController();
    const marker = `${env.root}/grandchild-survived`;
    const running = env.exec({
      command: ['sh', '-c', `(sleep 1; touch ${marker}) & wait`],
      signal: controller.signal,
    });
    await sleep(100);
    controller.abort(new Error('cancelled'));
    await assert.rejects(running, /cancelled/);
    await sleep(1300);
    await assert.rejects(access(marker), 'the background grandchild was killed too');
    assert.equal(env.running, 0);
  });
});
