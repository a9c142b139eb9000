import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { renderConfig, saveConfig, writeFileAtomic } from '../../src/config/save.js';
import {
  EXECUTORS,
  LOG_FORMATS,
  LOG_LEVELS,
  type RunnerConfig,
  type TartConfig,
} from '../../src/config/types.js';
import { withTempDir } from '../support/temp-dir.js';

const DEFAULTS = { imageDir: '/images/current', hostname: 'build-host' };

function runner(overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  const base = parseConfig(
    '[[runners]]\nurl = "https://gitlab.example.com/"\ntoken = "glrt-x"\nexecutor = "qemu"\n',
    'x',
    DEFAULTS,
  ).runners[0];
  assert.ok(base);
  return { ...base, ...overrides };
}

test('saved text uses the original key names in gitlab-runner layout and leaves defaults out', () => {
  const config: TartConfig = {
    concurrent: 2,
    checkInterval: 3,
    logLevel: 'info',
    logFormat: 'runner',
    shutdownTimeout: 30,
    runners: [
      runner({
        name: 'vm "one"',
        id: 7,
        tokenObtainedAt: new Date('2025-06-01T08:00:00Z'),
        tlsCaFile: '/ca.pem',
        environment: ['A=1'],
        vm: { ...runner().vm, memoryMb: 2048 },
      }),
    ],
  };
  assert.equal(
    renderConfig(config, DEFAULTS),
    [
      'concurrent = 2',
      'check_interval = 3',
      'shutdown_timeout = 30',
      '',
      '[[runners]]',
      '  name = "vm \\"one\\""',
      '  url = "https://gitlab.example.com/"',
      '  id = 7',
      '  token = "glrt-x"',
      '  token_obtained_at = 2025-06-01T08:00:00Z',
      '  executor = "qemu"',
      '  environment = ["A=1"]',
      '  tls-ca-file = "/ca.pem"',
      '',
      '  [runners.vm]',
      '    memory_mb = 2048',
      '',
    ].join('\n'),
  );
});

test('save then load gives back the same config, file mode 0600 in a 0700 directory created on demand', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'etc', 'tart', 'config.toml');
    const config = parseConfig(
      `concurrent = 3\nlog_format = "json"\n[[runners]]\nurl = "https://g/"\ntoken = "glrt-y"\nexecutor = "firecracker"\npre_get_sources_script = """
set -e
echo 'multi' "line"
"""
[runners.firecracker]\nuid = 5\n[runners.network]\ndeny_ranges = []\n`,
      'x',
      DEFAULTS,
    );
    await saveConfig(path, config, DEFAULTS);
    assert.deepEqual(await loadConfig(path, DEFAULTS), config);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'etc', 'tart'))).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(join(dir, 'etc', 'tart')), ['config.toml'], 'no temp file is left behind');
  });
});

test('saving replaces an existing file atomically and tightens a loose mode', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'config.toml');
    await writeFile(path, 'concurrent = 1\n', { mode: 0o644 });
    const config = parseConfig('concurrent = 9\n', 'x', DEFAULTS);
    await saveConfig(path, config, DEFAULTS);
    assert.match(await readFile(path, 'utf8'), /^concurrent = 9$/m);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
});

// Strings that stress quoting: quotes, backslashes, newlines, control characters, unicode.
const awkwardString = fc.string({ unit: 'binary', maxLength: 20 });
const runnerArbitrary: fc.Arbitrary<RunnerConfig> = fc
  .record(
    {
      name: awkwardString,
      id: fc.nat(),
      token: awkwardString.filter((token) => token.trim() !== ''),
      executor: fc.constantFrom(...EXECUTORS),
      limit: fc.nat(100),
      requestConcurrency: fc.integer({ min: 1, max: 10 }),
      environment: fc.array(
        awkwardString.map((value) => `K_1=${value}`),
        { maxLength: 3 },
      ),
      outputLimit: fc.integer({ min: 1, max: 1 << 20 }),
      tokenObtainedAt: fc.option(
        fc.date({ min: new Date(2000, 0), max: new Date(2100, 0), noInvalidDate: true }),
        {
          nil: undefined,
        },
      ),
      preGetSourcesScript: fc.option(
        awkwardString.filter((value) => value !== ''),
        { nil: undefined },
      ),
      memoryMb: fc.integer({ min: 128, max: 65536 }),
      useJailer: fc.boolean(),
    },
    { noNullPrototype: true },
  )
  .map(({ memoryMb, useJailer, tokenObtainedAt, preGetSourcesScript, ...fields }) => {
    const base = runner({ ...fields });
    const result: RunnerConfig = {
      ...base,
      // Firecracker runners always use TAP networking (the only valid choice for them).
      vm: { ...base.vm, memoryMb, network: base.executor === 'firecracker' ? 'tap' : base.vm.network },
      firecracker: { ...base.firecracker, useJailer },
    };
    if (tokenObtainedAt !== undefined) result.tokenObtainedAt = tokenObtainedAt;
    if (preGetSourcesScript !== undefined) result.preGetSourcesScript = preGetSourcesScript;
    return result;
  });

test('render then parse is lossless for any config (property)', () => {
  fc.assert(
    fc.property(
      fc.record(
        {
          concurrent: fc.integer({ min: 1, max: 64 }),
          checkInterval: fc.integer({ min: 1, max: 60 }),
          logLevel: fc.constantFrom(...LOG_LEVELS),
          logFormat: fc.constantFrom(...LOG_FORMATS),
          shutdownTimeout: fc.integer({ min: 1, max: 600 }),
          runners: fc.array(runnerArbitrary, { maxLength: 3 }),
        },
        { noNullPrototype: true },
      ),
      (config) => {
        assert.deepEqual(parseConfig(renderConfig(config, DEFAULTS), 'x', DEFAULTS), config);
      },
    ),
    { numRuns: 200 },
  );
});

test(
  'root rewriting a config.toml the service user owns keeps that owner (sudo tart register on the .deb)',
  { skip: process.getuid?.() !== 0 && 'needs root to own files as another user' },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tart-owner-'));
    try {
      const path = join(dir, 'config.toml');
      await writeFile(path, '# empty\n', { mode: 0o600 });
      await chown(path, 65534, 65534);
      await writeFileAtomic(path, 'concurrent = 1\n');
      const after = await stat(path);
      assert.deepEqual([after.uid, after.gid, after.mode & 0o777], [65534, 65534, 0o600]);
      assert.equal(await readFile(path, 'utf8'), 'concurrent = 1\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
