// Files gitlab-runner writes, loaded unchanged: `gitlab-runner register`'s output, a production
// shell runner, and a docker runner's leftovers with only `executor` changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TartError } from '../../src/errors.js';
import { parseConfig, parseConfigWithWarnings } from '../../src/config/load.js';
import { renderConfig } from '../../src/config/save.js';

const ENV = { GITLAB_URL: 'https://gitlab.internal.example/', RUNNER_TOKEN: 'glrt-from_the_environment_01' };
const DEFAULTS = { imageDir: '/images/current', hostname: 'build-host', env: ENV };
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const load = (name: string) => parseConfigWithWarnings(fixture(name), name, DEFAULTS);

test('a config exactly as `gitlab-runner register` writes it loads, with one warning line', () => {
  const { config, warnings } = load('register-shell.toml');
  assert.equal(config.concurrent, 1);
  assert.equal(config.checkInterval, 3, 'check_interval = 0 means the default');
  assert.equal(config.shutdownTimeout, 30, 'shutdown_timeout = 0 means the default');
  assert.equal(config.connectionMaxAgeMs, 15 * 60_000);
  const [runner] = config.runners;
  assert.equal(runner?.executor, 'shell');
  assert.equal(runner?.tokenExpiresAt, undefined);
  assert.deepEqual(
    runner?.customBuildDir,
    {},
    'an empty [runners.custom_build_dir] leaves the executor default',
  );
  assert.equal(runner?.cache?.type, undefined, 'no cache type: the local cache');
  assert.deepEqual(warnings, ['register-shell.toml: ignored by Tart: [session_server] session_timeout']);
});

test('a production shell runner: $VAR expansion, logrus log level, scripts, feature flags, S3 cache', () => {
  const { config, warnings } = load('production-shell.toml');
  assert.equal(config.logLevel, 'warn', '"warning" is gitlab-runner\'s spelling');
  const runner = config.runners[0];
  assert.ok(runner);
  assert.equal(runner.url, ENV.GITLAB_URL);
  assert.equal(runner.token, ENV.RUNNER_TOKEN);
  assert.equal(runner.buildsDir, undefined, 'builds_dir = "" is the default');
  assert.equal(runner.cacheDir, undefined);
  assert.equal(runner.preBuildScript, 'echo pre-build from config');
  assert.equal(runner.postBuildScript, 'echo post-build from config');
  assert.equal(runner.unhealthyRequestsLimit, 5);
  assert.equal(runner.unhealthyIntervalMs, 30 * 60_000);
  assert.deepEqual(runner.customBuildDir, { enabled: true });
  assert.deepEqual(runner.featureFlags, {
    FF_TIMESTAMPS: false,
    FF_SCRIPT_SECTIONS: true,
    FF_USE_FASTZIP: true,
  });
  assert.equal(runner.cache?.type, 's3');
  assert.equal(runner.cache?.shared, true);
  assert.equal(runner.cache?.path, 'tart');
  assert.equal(runner.cache?.maxUploadedArchiveSize, 104857600);
  assert.equal(runner.cache?.s3?.serverAddress, 'minio.example.com:9000');
  assert.equal(runner.cache?.s3?.authenticationType, 'access-key');
  assert.equal(runner.cache?.s3?.secretKey, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  assert.equal(warnings.length, 1, 'Type = "s3" is supported: no "not supported yet" notice');
  assert.match(
    warnings[0] ?? '',
    /ignored by Tart: \[session_server\] listen_address, advertise_address, session_timeout; \[\[runners\]\] strict_check_interval$/,
  );
  assert.doesNotMatch(warnings.join('\n'), /wJalrX|glrt-/, 'no secret in the warnings');
});

test('saving keeps $VAR in url and token, and every ignored key as written', () => {
  const { config } = load('production-shell.toml');
  const text = renderConfig(config, DEFAULTS);
  assert.match(text, /^ {2}url = "\$GITLAB_URL"$/m);
  assert.match(text, /^ {2}token = "\$\{RUNNER_TOKEN\}"$/m);
  assert.doesNotMatch(text, /glrt-from_the_environment/);
  assert.match(text, /^\[session_server\]$/m);
  assert.match(text, /^ {2}strict_check_interval = true$/m);
  assert.match(text, /^ {2}unhealthy_interval = "30m0s"$/m);
  assert.deepEqual(parseConfig(text, 'again', DEFAULTS), config);

  config.runners[0]!.token = 'glrt-rotated_token_000002';
  assert.match(
    renderConfig(config, DEFAULTS),
    /^ {2}token = "glrt-rotated_token_000002"$/m,
    'a changed token is written',
  );
});

test("a docker runner's leftovers with executor = qemu load; the docker table survives a save", () => {
  const { config, warnings } = load('docker-leftovers-as-qemu.toml');
  const runner = config.runners[0];
  assert.equal(runner?.executor, 'qemu');
  assert.deepEqual(runner?.environment, ['DOCKER_DRIVER=overlay2', 'DOCKER_TLS_CERTDIR=/certs']);
  assert.deepEqual(warnings, [
    'docker-leftovers-as-qemu.toml: ignored by Tart: [session_server] session_timeout; ' +
      '[runners.docker] privileged; [runners.docker.sysctls]',
  ]);
  // volumes are honoured: shared by the job's root and its services' (dind's /certs/client).
  assert.deepEqual(runner?.vm.volumes, ['/certs/client', '/cache']);
  // The docker image keys choose the VM's job image the same way.
  assert.equal(runner?.vm.defaultImage, 'alpine:3.20');
  assert.deepEqual(runner?.vm.allowedImages, ['alpine:*', 'ruby:*']);
  assert.deepEqual(runner?.vm.allowedServices, ['postgres:*', 'redis:*']);
  assert.deepEqual(runner?.vm.pullPolicy, ['always', 'if-not-present']);
  assert.deepEqual(runner?.vm.allowedPullPolicies, ['always', 'if-not-present']);
  assert.equal(runner?.vm.waitForServicesTimeout, -1, 'the services wait too');
  assert.equal(runner?.vm.servicesLimit, 2);
  assert.deepEqual(runner?.vm.services, [
    { name: 'postgres:16', alias: 'db', environment: [] },
    { name: 'redis:7', environment: [] },
  ]);
  const text = renderConfig(config, DEFAULTS);
  assert.match(text, /^ {4}\[\[runners\.docker\.services\]\]\n {6}name = "postgres:16"\n {6}alias = "db"$/m);
  assert.deepEqual(parseConfig(text, 'again', DEFAULTS), config);
});

function rejection(text: string): TartError {
  try {
    parseConfig(text, 'config.toml', DEFAULTS);
  } catch (error) {
    assert.ok(error instanceof TartError);
    return error;
  }
  assert.fail('expected a rejection');
}

const RUNNER = '[[runners]]\nurl = "https://gitlab.example.com/"\ntoken = "glrt-abc"\nexecutor = "shell"\n';

test('a key gitlab-runner does not know stays an error with file:line and a did-you-mean, also in [runners.docker]', () => {
  const docker = rejection(`${RUNNER}[runners.docker]\n  imag = "alpine"\n`);
  assert.equal(docker.code, 'CONFIG_UNKNOWN_KEY');
  assert.equal(docker.message, 'config.toml:6: runners[0].docker.imag: unknown key (did you mean "image"?)');
  const service = rejection(`${RUNNER}[[runners.docker.services]]\n  nmae = "redis"\n`);
  assert.equal(
    service.message,
    'config.toml:6: runners[0].docker.services[0].nmae: unknown key (did you mean "name"?)',
  );
  const top = rejection(`${RUNNER}pre_build_scrpt = "x"\n`);
  assert.match(
    top.message,
    /runners\[0\]\.pre_build_scrpt: unknown key \(did you mean "pre_build_script"\?\)/,
  );
  const s3 = rejection(`${RUNNER}[runners.cache.s3]\n  BucketNam = "b"\n`);
  assert.match(s3.message, /runners\[0\]\.cache\.s3\.BucketNam: unknown key \(did you mean "BucketName"\?\)/);
});

test('[runners.vm] wins over [runners.docker]; a bad docker pull_policy is an error on a VM runner', () => {
  const vmRunner =
    '[[runners]]\nurl = "https://gitlab.example.com/"\ntoken = "glrt-abc"\nexecutor = "qemu"\n';
  const config = parseConfig(
    `${vmRunner}[runners.vm]\n  default_image = "debian:12"\n[runners.docker]\n  image = "alpine"\n`,
    'c',
    DEFAULTS,
  );
  assert.equal(config.runners[0]?.vm.defaultImage, 'debian:12');
  assert.match(
    rejection(`${vmRunner}[runners.docker]\n  pull_policy = "sometimes"\n`).message,
    /runners\[0\]\.docker\.pull_policy: expected one of "always", "if-not-present", "never"/,
  );
});

test('[[runners.docker.services]] feeds a VM runner unless [[runners.vm.services]] is set; its errors name file, line and key', () => {
  const vmRunner =
    '[[runners]]\nurl = "https://gitlab.example.com/"\ntoken = "glrt-abc"\nexecutor = "qemu"\n';
  const docker = '[[runners.docker.services]]\n  name = "redis:7"\n  environment = ["A=1"]\n';
  const fed = parseConfig(`${vmRunner}${docker}`, 'c', DEFAULTS);
  assert.deepEqual(fed.runners[0]?.vm.services, [{ name: 'redis:7', environment: ['A=1'] }]);
  const own = parseConfig(`${vmRunner}[[runners.vm.services]]\n  name = "postgres:16"\n${docker}`, 'c', DEFAULTS);
  assert.deepEqual(own.runners[0]?.vm.services, [{ name: 'postgres:16', environment: [] }]);
  const bad = rejection(`${vmRunner}[[runners.docker.services]]\n  name = "redis:7"\n  environment = ["not an entry"]\n`);
  assert.equal(bad.message, 'config.toml:7: runners[0].docker.services[0].environment[0]: expected a "KEY=value" string, got "not an entry"');
  const typo = rejection(`${vmRunner}[[runners.docker.services]]\n  nmae = "redis"\n`);
  assert.match(typo.message, /^config\.toml:5: runners\[0\]\.docker\.services\[0\]\.name: required key is missing$/m);
  assert.match(typo.message, /^config\.toml:6: runners\[0\]\.docker\.services\[0\]\.nmae: unknown key \(did you mean "name"\?\)$/m);
  assert.equal(typo.message.match(/nmae/g)?.length, 1, 'the unknown key is named once');
  const vm = rejection(`${vmRunner}[[runners.vm.services]]\n  alias = "db"\n`);
  assert.match(vm.message, /runners\[0\]\.vm\.services\[0\]\.name: required key is missing/);
});

test('gitlab-runner values Tart cannot honour are clear errors', () => {
  assert.match(
    rejection(`${RUNNER}shell = "pwsh"\n`).message,
    /runners\[0\]\.shell: expected "bash" or "sh" \(Tart generates bash scripts only\)/,
  );
  assert.match(
    rejection(`${RUNNER}[runners.feature_flags]\n  FF_X = "yes"\n`).message,
    /feature_flags\.FF_X: expected true or false/,
  );
  assert.match(rejection('connection_max_age = "soon"\n').message, /connection_max_age: expected a duration/);
  assert.match(
    rejection('log_level = "loud"\n').message,
    /log_level: expected one of "debug", .*"warning", "trace"/,
  );
});

test('tables of executors Tart lacks load whole; GCS and Azure caches warn "not supported yet"', () => {
  const { warnings } = parseConfigWithWarnings(
    `${RUNNER}[runners.kubernetes]\n  namespace = "ci"\n  [runners.kubernetes.pod_labels]\n    team = "x"\n[runners.cache]\n  Type = "gcs"\n  [runners.cache.gcs]\n    BucketName = "b"\n`,
    'config.toml',
    DEFAULTS,
  );
  assert.deepEqual(warnings, [
    'config.toml: ignored by Tart: [runners.cache.gcs] BucketName; [runners.kubernetes]',
    'runners[0].cache: Type = "gcs" is not supported yet; the local cache is used',
  ]);
});
