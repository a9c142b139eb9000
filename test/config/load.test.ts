import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TartError } from '../../src/errors.js';
import { loadConfig, loadConfigOrEmpty, parseConfig } from '../../src/config/load.js';
import { DEFAULT_DENY_RANGES } from '../../src/config/schema.js';

const DEFAULTS = { imageDir: '/images/current', hostname: 'build-host' };
const FILE = '/etc/tart/config.toml';

const MINIMAL_RUNNER = `
[[runners]]
  url = "https://gitlab.example.com/"
  token = "glrt-secret-token-1234"
  executor = "qemu"
`;

function errorOf(text: string): TartError {
  try {
    parseConfig(text, FILE, DEFAULTS);
  } catch (error) {
    assert.ok(error instanceof TartError);
    assert.equal(error.name, 'UserError');
    return error;
  }
  assert.fail('expected the config to be rejected');
}

test('an empty file gives the global defaults and no runners', () => {
  const config = parseConfig('', FILE, DEFAULTS);
  assert.deepEqual(config, {
    concurrent: 1,
    checkInterval: 3,
    logLevel: 'info',
    logFormat: 'runner',
    shutdownTimeout: 30,
    runners: [],
  });
});

test('a runner gets every default, including host-dependent ones', () => {
  const [runner] = parseConfig(MINIMAL_RUNNER, FILE, DEFAULTS).runners;
  assert.deepEqual(runner, {
    name: 'build-host',
    url: 'https://gitlab.example.com/',
    id: 0,
    token: 'glrt-secret-token-1234',
    executor: 'qemu',
    limit: 0,
    requestConcurrency: 1,
    environment: [],
    outputLimit: 4096,
    shell: 'bash',
    vm: {
      image: '/images/current',
      vcpus: 2,
      memoryMb: 1024,
      diskSizeMb: 8192,
      bootTimeout: 120,
      accel: 'auto',
      allowedImages: [],
      allowedServices: [],
      allowedPullPolicies: [],
      insecureRegistries: [],
      allowedUsers: [],
      volumes: [],
      network: 'user',
      hostGuard: true,
      vmUser: 'tart-vm',
      idleCount: 0,
      idleTime: 1800,
      services: [],
    },
    firecracker: {
      binary: 'firecracker',
      jailer: 'jailer',
      useJailer: false,
      chrootBase: '/srv/jailer',
    },
    network: { bridge: 'tart0', subnet: '10.201.0.0/16', allowHosts: [], denyRanges: DEFAULT_DENY_RANGES },
  });
});

test('every documented key is read into its camelCase field', () => {
  const config = parseConfig(
    `concurrent = 4
check_interval = 5
log_level = "debug"
log_format = "json"
listen_address = "127.0.0.1:9252"
shutdown_timeout = 60

[[runners]]
  name = "vm-1"
  url = "https://gitlab.example.com"
  id = 88
  token = "glrt-abc"
  token_obtained_at = 2025-06-01T08:00:00Z
  token_expires_at = 2025-09-01T10:00:00Z
  executor = "firecracker"
  limit = 3
  request_concurrency = 2
  builds_dir = "/builds"
  cache_dir = "/cache"
  environment = ["A=1", "B=two words"]
  output_limit = 8192
  clone_url = "http://10.0.0.1"
  tls-ca-file = "/etc/tart/ca.pem"
  pre_get_sources_script = "echo pre"
  post_get_sources_script = "echo post"
  shell = "bash"
  [runners.vm]
    image = "/srv/images/x"
    vcpus = 4
    memory_mb = 2048
    disk_size_mb = 4096
    boot_timeout = 30
    accel = "kvm"
    network = "tap"
    host_guard = false
    vm_user = "tart-vm:kvm"
    idle_count = 2
    idle_time = 600
    default_image = "node:20"
    allowed_images = ["node:*", "registry.example.com/**"]
    allowed_services = ["postgres:*"]
    pull_policy = "if-not-present"
    allowed_pull_policies = ["if-not-present", "always"]
    image_store_size_mb = 20480
    image_store = "/srv/tart/images"
    insecure_registries = ["registry.lan:5000"]
    wait_for_services_timeout = 120
    services_limit = 3
    user = "builder"
    allowed_users = ["builder", "1000"]
    volumes = ["/certs/client", "/cache"]
    [[runners.vm.services]]
      name = "postgres:16"
      alias = "db, pg"
      entrypoint = ["docker-entrypoint.sh"]
      command = ["postgres", "-p", "5433"]
      environment = ["POSTGRES_PASSWORD=pw", "HEALTHCHECK_TCP_PORT=5433"]
    [[runners.vm.services]]
      name = "redis:7"
  [runners.firecracker]
    binary = "/usr/bin/firecracker"
    jailer = "/usr/bin/jailer"
    use_jailer = true
    uid = 900
    gid = 901
    chroot_base = "/srv/j"
  [runners.network]
    bridge = "br9"
    subnet = "10.9.0.0/16"
    allow_hosts = ["10.0.0.1:443", "192.168.1.5"]
    deny_ranges = ["10.0.0.0/8"]
`,
    FILE,
    DEFAULTS,
  );
  assert.equal(config.concurrent, 4);
  assert.equal(config.checkInterval, 5);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.logFormat, 'json');
  assert.equal(config.listenAddress, '127.0.0.1:9252');
  assert.equal(config.shutdownTimeout, 60);
  const runner = config.runners[0];
  assert.ok(runner);
  assert.equal(runner.id, 88);
  assert.deepEqual(runner.tokenObtainedAt, new Date('2025-06-01T08:00:00Z'));
  assert.deepEqual(runner.tokenExpiresAt, new Date('2025-09-01T10:00:00Z'));
  assert.equal(runner.executor, 'firecracker');
  assert.equal(runner.requestConcurrency, 2);
  assert.deepEqual(runner.environment, ['A=1', 'B=two words']);
  assert.equal(runner.tlsCaFile, '/etc/tart/ca.pem');
  assert.equal(runner.preGetSourcesScript, 'echo pre');
  assert.equal(runner.postGetSourcesScript, 'echo post');
  assert.deepEqual(runner.vm, {
    image: '/srv/images/x',
    vcpus: 4,
    memoryMb: 2048,
    diskSizeMb: 4096,
    bootTimeout: 30,
    accel: 'kvm',
    defaultImage: 'node:20',
    allowedImages: ['node:*', 'registry.example.com/**'],
    allowedServices: ['postgres:*'],
    pullPolicy: ['if-not-present'],
    allowedPullPolicies: ['if-not-present', 'always'],
    imageStoreSizeMb: 20480,
    imageStore: '/srv/tart/images',
    insecureRegistries: ['registry.lan:5000'],
    waitForServicesTimeout: 120,
    servicesLimit: 3,
    user: 'builder',
    allowedUsers: ['builder', '1000'],
    volumes: ['/certs/client', '/cache'],
    network: 'tap',
    hostGuard: false,
    vmUser: 'tart-vm:kvm',
    idleCount: 2,
    idleTime: 600,
    services: [
      {
        name: 'postgres:16',
        alias: 'db, pg',
        entrypoint: ['docker-entrypoint.sh'],
        command: ['postgres', '-p', '5433'],
        environment: ['POSTGRES_PASSWORD=pw', 'HEALTHCHECK_TCP_PORT=5433'],
      },
      { name: 'redis:7', environment: [] },
    ],
  });
  assert.deepEqual(runner.firecracker, {
    binary: '/usr/bin/firecracker',
    jailer: '/usr/bin/jailer',
    useJailer: true,
    uid: 900,
    gid: 901,
    chrootBase: '/srv/j',
  });
  assert.deepEqual(runner.network, {
    bridge: 'br9',
    subnet: '10.9.0.0/16',
    allowHosts: ['10.0.0.1:443', '192.168.1.5'],
    denyRanges: ['10.0.0.0/8'],
  });
});

test("gitlab-runner's zero time means the token never expires, and 0 intervals mean the default", () => {
  const config = parseConfig(
    `check_interval = 0\nshutdown_timeout = 0\n${MINIMAL_RUNNER}  token_expires_at = 0001-01-01T00:00:00Z\n`,
    FILE,
    DEFAULTS,
  );
  assert.equal(config.runners[0]?.tokenExpiresAt, undefined);
  assert.equal(config.checkInterval, 3);
  assert.equal(config.shutdownTimeout, 30);
});

test('firecracker runners default to TAP networking and refuse user-mode networking', () => {
  const firecracker = MINIMAL_RUNNER.replace('"qemu"', '"firecracker"');
  assert.equal(parseConfig(firecracker, FILE, DEFAULTS).runners[0]?.vm.network, 'tap');
  assert.equal(parseConfig(MINIMAL_RUNNER, FILE, DEFAULTS).runners[0]?.vm.network, 'user');
  const error = errorOf(`${firecracker}  [runners.vm]\n    network = "user"\n`);
  assert.equal(error.code, 'CONFIG_INVALID_VALUE');
  assert.equal(
    error.message,
    '/etc/tart/config.toml:7: runners[0].vm.network: the firecracker executor needs network = "tap" (Firecracker has no user-mode networking)',
  );
});

const INVALID: { name: string; text: string; code: string; message: string }[] = [
  {
    name: 'a bad value names file, line, key, expectation and value',
    text: `concurrent = 2\n${MINIMAL_RUNNER}  limit = "x"\n`,
    code: 'CONFIG_INVALID_VALUE',
    message: '/etc/tart/config.toml:7: runners[0].limit: expected a non-negative integer, got "x"',
  },
  {
    name: 'an unknown top-level key',
    text: 'concurent = 2\n',
    code: 'CONFIG_UNKNOWN_KEY',
    message: '/etc/tart/config.toml:1: concurent: unknown key (did you mean "concurrent"?)',
  },
  {
    name: 'an unknown key in a sub-table of the second runner',
    text: `${MINIMAL_RUNNER}${MINIMAL_RUNNER}  [runners.vm]\n    memory = 5\n`,
    code: 'CONFIG_UNKNOWN_KEY',
    message: '/etc/tart/config.toml:12: runners[1].vm.memory: unknown key',
  },
  {
    name: 'a missing required key points at its table',
    text: '\n[[runners]]\n  url = "https://x/"\n  executor = "shell"\n',
    code: 'CONFIG_MISSING_KEY',
    message: '/etc/tart/config.toml:2: runners[0].token: required key is missing',
  },
  {
    name: 'a bad array item points at the item',
    text: `${MINIMAL_RUNNER}  environment = [\n    "A=1",\n    "no equals sign",\n  ]\n`,
    code: 'CONFIG_INVALID_VALUE',
    message:
      '/etc/tart/config.toml:8: runners[0].environment[1]: expected a "KEY=value" string, got "no equals sign"',
  },
  {
    name: 'an enum value lists the choices',
    text: `${MINIMAL_RUNNER}  [runners.vm]\n    accel = "hvf"\n`,
    code: 'CONFIG_INVALID_VALUE',
    message: '/etc/tart/config.toml:7: runners[0].vm.accel: expected one of "auto", "kvm", "tcg", got "hvf"',
  },
  {
    name: 'a table where a value belongs',
    text: '[listen_address]\n',
    code: 'CONFIG_INVALID_VALUE',
    message: '/etc/tart/config.toml:1: listen_address: expected a "host:port" address, got a table',
  },
  {
    name: 'runners written as a single table',
    text: '[runners]\nname = "x"\n',
    code: 'CONFIG_INVALID_VALUE',
    message: '/etc/tart/config.toml:1: runners: expected an array of tables ([[runners]]), got a table',
  },
  {
    name: 'a non-http url',
    text: MINIMAL_RUNNER.replace('https://gitlab.example.com/', 'ftp://gitlab'),
    code: 'CONFIG_INVALID_VALUE',
    message: '/etc/tart/config.toml:3: runners[0].url: expected an http(s) URL, got "ftp://gitlab"',
  },
  {
    name: 'a bad CIDR',
    text: `${MINIMAL_RUNNER}  [runners.network]\n    deny_ranges = ["10.0.0.0/33"]\n`,
    code: 'CONFIG_INVALID_VALUE',
    message:
      '/etc/tart/config.toml:7: runners[0].network.deny_ranges[0]: expected a CIDR like 10.0.0.0/8, got "10.0.0.0/33"',
  },
  {
    name: 'a TOML syntax error carries the parser line and column',
    text: 'concurrent = 1\nlog_level = = "x"\n',
    code: 'CONFIG_SYNTAX',
    message: '/etc/tart/config.toml:2:13: invalid value',
  },
];

for (const { name, text, code, message } of INVALID) {
  test(`rejected: ${name}`, () => {
    const error = errorOf(text);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
  });
}

test('several problems are all reported, in file order', () => {
  const error = errorOf(`${MINIMAL_RUNNER}  limit = -1\n  colour = "red"\n`);
  assert.equal(
    error.message,
    [
      '/etc/tart/config.toml:6: runners[0].limit: expected a non-negative integer, got -1',
      '/etc/tart/config.toml:7: runners[0].colour: unknown key',
    ].join('\n'),
  );
  assert.equal(error.code, 'CONFIG_INVALID_VALUE');
});

test('an invalid token is reported without echoing it', () => {
  const error = errorOf(MINIMAL_RUNNER.replace('"glrt-secret-token-1234"', '["glrt-secret-token-1234"]'));
  assert.equal(error.message, '/etc/tart/config.toml:4: runners[0].token: expected a non-empty string');
  assert.doesNotMatch(error.message, /secret-token/);
});

test('a syntax error does not quote neighbouring lines that may hold the token', () => {
  const error = errorOf(`${MINIMAL_RUNNER}  limit = = 2\n`);
  assert.equal(error.code, 'CONFIG_SYNTAX');
  assert.doesNotMatch(error.message, /secret-token/);
});

test('loading a missing file is CONFIG_NOT_FOUND, and loadConfigOrEmpty treats it as empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tart-config-'));
  try {
    const path = join(dir, 'config.toml');
    await assert.rejects(loadConfig(path, DEFAULTS), (error: unknown) => {
      assert.ok(error instanceof TartError);
      assert.equal(error.code, 'CONFIG_NOT_FOUND');
      assert.match(error.message, /config\.toml: config file not found/);
      return true;
    });
    assert.deepEqual((await loadConfigOrEmpty(path, DEFAULTS)).runners, []);
    await writeFile(path, MINIMAL_RUNNER);
    assert.equal((await loadConfig(path, DEFAULTS)).runners[0]?.executor, 'qemu');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('default lists are copies: changing one runner does not change another or the defaults', () => {
  const config = parseConfig(`${MINIMAL_RUNNER}${MINIMAL_RUNNER}`, FILE, DEFAULTS);
  config.runners[0]?.network.denyRanges.push('1.2.3.0/24');
  assert.deepEqual(config.runners[1]?.network.denyRanges, DEFAULT_DENY_RANGES);
  assert.equal(DEFAULT_DENY_RANGES.includes('1.2.3.0/24'), false);
});
