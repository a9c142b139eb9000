import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startFakeGitLab } from '../support/fake-gitlab/index.js';
import { createSandbox } from './harness.js';

const DEFAULTS = { imageDir: '/img', hostname: 'h' };

test('register, verify, list and unregister work end to end against the strict fake GitLab', async () => {
  const gitlab = await startFakeGitLab();
  const sandbox = await createSandbox();
  try {
    const created = gitlab.addRunner({ token: 'glrt-t1_LifecycleLifecycle01' });
    gitlab.addRegistrationToken('GR1348941LifecycleRegToken');

    const first = await sandbox.run(['register', '-n', '--url', gitlab.url, '--name', 'new-style'], {
      CI_SERVER_TOKEN: created.token,
    });
    assert.equal(first.code, 0, first.stderr);
    const second = await sandbox.run(
      ['register', '-n', '--url', gitlab.url, '--name', 'legacy', '--executor', 'shell'],
      {
        REGISTRATION_TOKEN: 'GR1348941LifecycleRegToken',
      },
    );
    assert.equal(second.code, 0, second.stderr);

    const systemId = await readFile(join(dirname(sandbox.configPath), '.runner_system_id'), 'utf8');
    assert.ok(
      gitlab.runner(created.token)?.managers.has(systemId),
      'verify created this host’s runner manager',
    );
    const config = await loadConfig(sandbox.configPath, DEFAULTS);
    assert.deepEqual(
      config.runners.map((runner) => [runner.name, runner.id]),
      [
        ['new-style', created.id],
        ['legacy', gitlab.runners().find((runner) => runner.kind === 'legacy')?.id],
      ],
    );
    const legacyToken = config.runners[1]?.token ?? '';
    assert.equal(gitlab.runner(legacyToken)?.kind, 'legacy');

    assert.equal((await sandbox.run(['verify'])).code, 0);
    assert.match((await sandbox.run(['list'])).stdout, /^new-style\s+Executor=qemu Token=t1_Lifecy /m);

    const removed = await sandbox.run(['unregister', '--all-runners']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(gitlab.runner(legacyToken), undefined, 'the legacy runner is deleted in GitLab');
    assert.equal(
      gitlab.runner(created.token)?.managers.has(systemId),
      false,
      'only the manager of the glrt- runner goes',
    );
    assert.deepEqual((await loadConfig(sandbox.configPath, DEFAULTS)).runners, []);
  } finally {
    await sandbox.cleanup();
    await gitlab.close();
  }
});
