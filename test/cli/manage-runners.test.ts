import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createSandbox, type CliSandbox } from './harness.js';
import { startScriptedGitLab, type ScriptedGitLab } from './scripted-gitlab.js';

const DEFAULTS = { imageDir: '/img', hostname: 'h' };
const GOOD = 'glrt-t1_GoodGoodGoodGood0000';
const GONE = 'glrt-t1_GoneGoneGoneGone0000';
const LEGACY = 't3_LegacyLegacyLegacy00';
const SYSTEM_ID = 's_0123456789ab';

async function withRunners(
  body: (sandbox: CliSandbox, gitlab: ScriptedGitLab) => Promise<void>,
): Promise<void> {
  const gitlab = await startScriptedGitLab({
    'POST /api/v4/runners/verify': (request) =>
      request.body.token === GONE
        ? { status: 403, body: { message: '403 Forbidden' } }
        : { status: 200, body: { id: 1, token: request.body.token, token_expires_at: null } },
    'DELETE /api/v4/runners/managers': (request) =>
      request.body.system_id === SYSTEM_ID
        ? { status: 204 }
        : { status: 400, body: { error: 'system_id is missing' } },
    'DELETE /api/v4/runners': (request) =>
      request.body.token === LEGACY ? { status: 204 } : { status: 403, body: { message: '403 Forbidden' } },
  });
  const sandbox = await createSandbox();
  const entry = (name: string, token: string) =>
    `[[runners]]\nname = "${name}"\nurl = "${gitlab.url}"\ntoken = "${token}"\nexecutor = "shell"\n`;
  await mkdir(dirname(sandbox.configPath), { recursive: true });
  await writeFile(join(dirname(sandbox.configPath), '.runner_system_id'), SYSTEM_ID);
  await writeFile(
    sandbox.configPath,
    [entry('good', GOOD), entry('gone', GONE), entry('legacy', LEGACY)].join('\n'),
  );
  try {
    await body(sandbox, gitlab);
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
}

const names = async (sandbox: CliSandbox) =>
  (await loadConfig(sandbox.configPath, DEFAULTS)).runners.map((runner) => runner.name);

test('verify reports each runner and fails while a removed one is still configured', async () => {
  await withRunners(async (sandbox, gitlab) => {
    const result = await sandbox.run(['verify']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout,
      [
        'Verifying runner... is valid  runner=t1_GoodGo name=good',
        'Verifying runner... is removed  runner=t1_GoneGo name=gone',
        'Verifying runner... is valid  runner=t3_Legac name=legacy',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      gitlab.requests.map((request) => request.body.system_id),
      [SYSTEM_ID, SYSTEM_ID, SYSTEM_ID],
    );
    assert.deepEqual(await names(sandbox), ['good', 'gone', 'legacy']);
  });
});

test('verify --delete removes the runners GitLab no longer knows and succeeds', async () => {
  await withRunners(async (sandbox) => {
    const result = await sandbox.run(['verify', '--delete']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await names(sandbox), ['good', 'legacy']);
  });
});

test('verify --name checks only that runner, and an unknown name is an error', async () => {
  await withRunners(async (sandbox, gitlab) => {
    assert.equal((await sandbox.run(['verify', '--name', 'good'])).code, 0);
    assert.equal(gitlab.requests.length, 1);
    const missing = await sandbox.run(['verify', '--name', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No runner named "nope"/);
  });
});

test('unregister removes a glrt- runner manager with the system id, and a legacy runner with DELETE /runners', async () => {
  await withRunners(async (sandbox, gitlab) => {
    assert.equal((await sandbox.run(['unregister', '--name', 'good'])).code, 0);
    assert.deepEqual(gitlab.requests.at(-1), {
      ...gitlab.requests.at(-1),
      method: 'DELETE',
      path: '/api/v4/runners/managers',
      body: { token: GOOD, system_id: SYSTEM_ID },
    });
    assert.equal((await sandbox.run(['unregister', '--url', gitlab.url, '--token', LEGACY])).code, 0);
    assert.equal(gitlab.requests.at(-1)?.path, '/api/v4/runners');
    assert.deepEqual(await names(sandbox), ['gone']);
  });
});

test('unregister --all-runners keeps the runners GitLab refused and exits 1', async () => {
  await withRunners(async (sandbox) => {
    await writeFile(
      sandbox.configPath,
      (await readFile(sandbox.configPath, 'utf8')).replace(
        `token = "${LEGACY}"`,
        'token = "t3_unknownunknown"',
      ),
    );
    const result = await sandbox.run(['unregister', '--all-runners']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Unregistering runner t3_unkno failed/);
    assert.deepEqual(await names(sandbox), ['legacy']);
  });
});

test('unregister needs a selection', async () => {
  await withRunners(async (sandbox, gitlab) => {
    const result = await sandbox.run(['unregister']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Give --name, --all-runners, or --url with --token/);
    assert.equal(gitlab.requests.length, 0);
  });
});

test('list shows name, executor, short token and URL, never the full token', async () => {
  await withRunners(async (sandbox, gitlab) => {
    const result = await sandbox.run(['list']);
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout,
      [
        `good    Executor=shell Token=t1_GoodGo URL=${gitlab.url}`,
        `gone    Executor=shell Token=t1_GoneGo URL=${gitlab.url}`,
        `legacy  Executor=shell Token=t3_Legac URL=${gitlab.url}`,
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(result.stdout + result.stderr, /GoodGoodGood|LegacyLegacy/);
    assert.equal(gitlab.requests.length, 0);
  });
});
