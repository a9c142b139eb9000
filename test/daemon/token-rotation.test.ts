// `tart run` as a real process rotates a runner token before it expires (protocol reference
// §1.5, §1.6) against the fake GitLab, which invalidates the old token at once and refuses
// expired ones: the new token is saved (0600) and used for the next job, and no job is lost.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { resetDue } from '../../src/daemon/token-rotation.js';
import { parseConfig } from '../../src/config/load.js';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { setUp, startTart } from './tart-process.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'glrt-rotation_token_000001';

describe('automatic token rotation (real process)', () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;
  const lifetimeMs = 8_000;
  let issuedAt: Date;

  before(async () => {
    issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const expiresAt = new Date(issuedAt.getTime() + lifetimeMs);
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-rotation-',
      global: ['concurrent = 2', 'check_interval = 1'],
      runners: ['rotating'],
      token: TOKEN,
      runnerLines: [
        `token_obtained_at = ${issuedAt.toISOString()}`,
        `token_expires_at = ${expiresAt.toISOString()}`,
      ],
      tokenExpiresAt: expiresAt.toISOString(),
    }));
  });

  after(() => cleanup());

  it('resets the token at 75 % of its life, saves it, and the next job is requested with it', async () => {
    const daemon = startTart(configPath);
    try {
      // A job that runs across the rotation.
      const across = fake.enqueueJob({
        project: 'acme/widget',
        script: ['echo before rotation', 'sleep 8', 'echo after rotation'],
      });
      await fake.waitForJob(across.id, (j) => j.trace.toString().includes('before rotation'), 30_000);
      await waitFor(
        async () => !(await readFile(configPath, 'utf8')).includes(TOKEN),
        15_000,
        'the rotated token in config.toml',
      );
      const rotatedAt = Date.now();
      assert.ok(
        rotatedAt - issuedAt.getTime() >= 0.75 * lifetimeMs - 1500,
        'not long before 75 % of the lifetime',
      );
      assert.equal(fake.runner(TOKEN), undefined, 'the old token is gone in GitLab');
      const [live] = fake.runners();
      assert.ok(live);
      const saved = parseConfig(await readFile(configPath, 'utf8'), configPath, {
        imageDir: '/i',
        hostname: 'h',
      });
      assert.equal(saved.runners[0]?.token, live.token);
      assert.equal(
        saved.runners[0]?.tokenExpiresAt?.toISOString(),
        new Date(live.tokenExpiresAt ?? '').toISOString(),
      );
      assert.equal((await stat(configPath)).mode & 0o777, 0o600);

      const next = fake.enqueueJob({ project: 'acme/widget', script: ['echo with the new token'] });
      const nextDone = await fake.waitForJob(
        next.id,
        (j) => j.state === 'success' || j.state === 'failed',
        30_000,
      );
      assert.equal(nextDone.state, 'success');
      assert.equal(nextDone.assignedTo?.runnerToken, live.token);
      const acrossDone = await fake.waitForJob(
        across.id,
        (j) => j.state === 'success' || j.state === 'failed',
        30_000,
      );
      assert.equal(acrossDone.state, 'success', 'the job running across the rotation is not lost');
      assert.doesNotMatch(daemon.stderr(), new RegExp(`${TOKEN}|${live.token}`), 'no token in the logs');
      assert.match(daemon.stderr(), /runner token rotated/);
    } finally {
      daemon.process.kill('SIGTERM');
      await daemon.exitCode;
    }
  });

  it('plans the reset at token_obtained_at + 0.75 × lifetime; never for a token without expiry', () => {
    const runner = parseConfig(
      '[[runners]]\nurl = "https://g.example/"\ntoken = "glrt-x"\nexecutor = "shell"\ntoken_obtained_at = 2025-01-01T00:00:00Z\ntoken_expires_at = 2025-01-05T00:00:00Z\n',
      'c',
      { imageDir: '/i', hostname: 'h' },
    ).runners[0];
    assert.ok(runner);
    assert.equal(new Date(resetDue(runner, 0) ?? 0).toISOString(), '2025-01-04T00:00:00.000Z');
    assert.equal(resetDue({ ...runner, tokenExpiresAt: undefined }, 0), undefined);
  });
});
