import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createSandbox } from './harness.js';
import { startScriptedGitLab } from './scripted-gitlab.js';

const DEFAULTS = { imageDir: '/img', hostname: 'h' };
const GLRT = 'glrt-t1_AbCdEfGhIjKlMnOpQrSt';

test('register with a glrt- token verifies it with the system id and appends a [[runners]] entry', async () => {
  const gitlab = await startScriptedGitLab({
    'POST /api/v4/runners/verify': { status: 200, body: { id: 42, token: GLRT, token_expires_at: null } },
  });
  const sandbox = await createSandbox();
  try {
    const before = Date.now();
    const result = await sandbox.run([
      'register',
      '--non-interactive',
      '--url',
      gitlab.url,
      '--token',
      GLRT,
      '--name',
      'vm-1',
      '--limit',
      '2',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [request] = gitlab.requests;
    assert.equal(gitlab.requests.length, 1);
    assert.equal(request?.body.token, GLRT);
    const systemId = await readFile(join(dirname(sandbox.configPath), '.runner_system_id'), 'utf8');
    assert.match(systemId, /^[sr]_[0-9a-zA-Z]{12}$/);
    assert.equal(request?.body.system_id, systemId);

    const config = await loadConfig(sandbox.configPath, DEFAULTS);
    assert.equal(config.runners.length, 1);
    const runner = config.runners[0];
    assert.equal(runner?.name, 'vm-1');
    assert.equal(runner?.id, 42);
    assert.equal(runner?.token, GLRT);
    assert.equal(runner?.url, gitlab.url);
    assert.equal(runner?.executor, 'qemu');
    assert.equal(runner?.limit, 2);
    assert.equal(runner?.tokenExpiresAt, undefined);
    assert.ok((runner?.tokenObtainedAt?.getTime() ?? 0) >= Math.floor(before / 1000) * 1000);
    assert.equal((await stat(sandbox.configPath)).mode & 0o777, 0o600);
    assert.doesNotMatch(result.stdout + result.stderr, /AbCdEfGhIjKlMnOpQrSt/);
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
});

test('register with a legacy registration token stores the runner token GitLab returns, next to existing runners', async () => {
  const gitlab = await startScriptedGitLab({
    'POST /api/v4/runners': (request) => ({
      status: 201,
      body: {
        id: request.body.token === 'GR1348941legacyregtoken' ? 7 : 0,
        token: 't3_issuedRunnerToken00',
        token_expires_at: '2030-01-01T00:00:00.000Z',
      },
    }),
    'POST /api/v4/runners/verify': { status: 200, body: { id: 1, token: GLRT } },
  });
  const sandbox = await createSandbox();
  try {
    const first = await sandbox.run(['register', '-n', '--url', gitlab.url, '--token', GLRT, '--name', 'a']);
    assert.equal(first.code, 0, first.stderr);
    const second = await sandbox.run(
      [
        'register',
        '-n',
        '--url',
        gitlab.url,
        '--name',
        'b',
        '--executor',
        'shell',
        '--tag-list',
        'x, y',
        '--locked=false',
        '--builds-dir',
        '/b',
      ],
      { REGISTRATION_TOKEN: 'GR1348941legacyregtoken' },
    );
    assert.equal(second.code, 0, second.stderr);
    const request = gitlab.requests[1];
    assert.equal(request?.path, '/api/v4/runners');
    assert.equal(request?.body.description, 'b');
    assert.equal(request?.body.tag_list, 'x,y');
    assert.equal(request?.body.locked, false);

    const config = await loadConfig(sandbox.configPath, DEFAULTS);
    assert.deepEqual(
      config.runners.map((runner) => [runner.name, runner.id, runner.token, runner.executor]),
      [
        ['a', 1, GLRT, 'qemu'],
        ['b', 7, 't3_issuedRunnerToken00', 'shell'],
      ],
    );
    assert.deepEqual(config.runners[1]?.tokenExpiresAt, new Date('2030-01-01T00:00:00Z'));
    assert.equal(config.runners[1]?.buildsDir, '/b');
    assert.doesNotMatch(second.stdout + second.stderr, /legacyregtoken|issuedRunnerToken/);
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
});

test('a token GitLab refuses fails with a message, no stack, no token, and no config written', async () => {
  const gitlab = await startScriptedGitLab({
    'POST /api/v4/runners/verify': { status: 403, body: { message: '403 Forbidden' } },
  });
  const sandbox = await createSandbox();
  try {
    const result = await sandbox.run(['register', '-n', '--url', gitlab.url, '--token', GLRT]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ERROR: Verifying the runner token failed: .*403/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(result.stderr, /AbCdEfGhIjKlMnOpQrSt/);
    await assert.rejects(stat(sandbox.configPath), { code: 'ENOENT' });
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
});

test('flags GitLab owns for glrt- runners, and bad local settings, are refused before GitLab is called', async () => {
  const gitlab = await startScriptedGitLab({});
  const sandbox = await createSandbox();
  try {
    const tags = await sandbox.run([
      'register',
      '-n',
      '--url',
      gitlab.url,
      '--token',
      GLRT,
      '--tag-list',
      'a',
    ]);
    assert.equal(tags.code, 1);
    assert.match(tags.stderr, /--tag-list cannot be used with a glrt- runner authentication token/);
    const limit = await sandbox.run(['register', '-n', '--url', gitlab.url, '--token', GLRT, '--limit', 'x']);
    assert.equal(limit.code, 1);
    assert.match(limit.stderr, /limit: expected a non-negative integer, got "x"/);
    const noUrl = await sandbox.run(['register', '-n', '--token', GLRT]);
    assert.equal(noUrl.code, 1);
    assert.match(noUrl.stderr, /--url \(or \$CI_SERVER_URL\) is required/);
    assert.equal(gitlab.requests.length, 0);
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
});
