// The service verbs. This host has no running systemd, so the real check is the refusal; the verbs'
// systemctl sequences are checked against a recording ServiceHost (systemd cannot run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, executeProgram } from '../../src/cli/main.js';
import { createCliContext } from '../../src/cli/context.js';
import { runServiceVerb } from '../../src/service/service-verbs.js';
import type { ServiceHost, SystemctlResult } from '../../src/service/systemd.js';

const PACKAGE_ROOT = join(import.meta.dirname, '..', '..');

test(
  'without a running systemd every verb says so and what to run instead, and changes nothing',
  { skip: existsSync('/run/systemd/system') && 'systemd runs on this host' },
  async () => {
    const home = await mkdtemp(join(tmpdir(), 'tart-service-'));
    try {
      for (const verb of ['install', 'uninstall', 'start', 'stop', 'restart', 'status']) {
        let stdout = '';
        let stderr = '';
        const context = createCliContext(
          {
            stdout: { write: (t: string) => (stdout += t) },
            stderr: { write: (t: string) => (stderr += t) },
            env: {},
          },
          { env: {}, uid: 0, home, hostname: 'h' },
        );
        const code = await executeProgram(
          buildProgram(context),
          [verb, '--config', '/etc/tart/config.toml'],
          context,
        );
        assert.equal(code, 1, verb);
        assert.equal(stdout, '');
        assert.equal(
          stderr,
          `ERROR: "tart ${verb}" manages a systemd service, but systemd is not running on this host (no /run/systemd/system). ` +
            'Run the daemon under your own supervisor instead: tart run --config /etc/tart/config.toml\n',
        );
      }
      assert.equal(existsSync('/etc/systemd/system/tart.service'), false);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
);

// Records what a verb asks of systemd; answers from `answers` (default: success).
function recordingHost(answers: Record<string, SystemctlResult> = {}) {
  const calls: string[] = [];
  const units = new Map<string, string>();
  const host: ServiceHost = {
    systemdRunning: async () => true,
    systemctl: async (args) => {
      calls.push(args.join(' '));
      return answers[args.join(' ')] ?? { code: 0, stdout: '', stderr: '' };
    },
    writeUnit: async (path, text) => void units.set(path, text),
    removeUnit: async (path) => units.delete(path),
  };
  return { host, calls, units };
}

test('install writes the unit, reloads systemd and enables it without starting it', async () => {
  const { host, calls, units } = recordingHost();
  const output = await runServiceVerb(host, {
    verb: 'install',
    service: 'tart',
    configPath: '/etc/tart/config.toml',
    unit: {
      tartPath: '/usr/bin/tart',
      configPath: '/etc/tart/config.toml',
      user: 'tart',
      packageRoot: PACKAGE_ROOT,
    },
  });
  assert.deepEqual(calls, ['daemon-reload', 'enable tart.service']);
  assert.match(
    units.get('/etc/systemd/system/tart.service') ?? '',
    /^ExecStart=\/usr\/bin\/tart run --config \/etc\/tart\/config.toml$/m,
  );
  assert.match(
    output,
    /installed \/etc\/systemd\/system\/tart.service \(enabled\); start it with "tart start"/,
  );

  const removed = await runServiceVerb(host, { verb: 'uninstall', service: 'tart', configPath: 'x' });
  assert.deepEqual(calls.slice(2), ['disable --now tart.service', 'daemon-reload']);
  assert.equal(units.size, 0);
  assert.equal(removed, 'removed /etc/systemd/system/tart.service\n');
});

test('start, stop and restart map to systemctl; a failure and a stopped service are clear errors', async () => {
  const { host, calls } = recordingHost({
    'restart ci.service': {
      code: 5,
      stdout: '',
      stderr: 'Failed to restart ci.service: Unit ci.service not found.\n',
    },
    'is-active ci.service': { code: 3, stdout: 'inactive\n', stderr: '' },
  });
  for (const verb of ['start', 'stop'] as const)
    await runServiceVerb(host, { verb, service: 'ci', configPath: 'x' });
  assert.deepEqual(calls, ['start ci.service', 'stop ci.service']);
  await assert.rejects(runServiceVerb(host, { verb: 'restart', service: 'ci', configPath: 'x' }), {
    code: 'SERVICE_FAILED',
    message: 'systemctl restart ci.service failed: Failed to restart ci.service: Unit ci.service not found.',
  });
  await assert.rejects(runServiceVerb(host, { verb: 'status', service: 'ci', configPath: 'x' }), {
    code: 'SERVICE_NOT_RUNNING',
    message: 'ci: Service is not running (inactive)',
  });
  const running = recordingHost();
  assert.equal(
    await runServiceVerb(running.host, { verb: 'status', service: 'ci', configPath: 'x' }),
    'ci: Service is running\n',
  );
});
