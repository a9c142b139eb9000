import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRuntimeConfig, type ImageRuntimeConfig } from '../../src/oci/image-config.js';
import { healthCheckPorts, serviceArgv, serviceEnvironment } from '../../src/oci/service-process.js';

const image = (config: Partial<ImageRuntimeConfig>): ImageRuntimeConfig => ({ env: [], exposedTcpPorts: [], ...config });

describe('serviceArgv: Docker merges the payload overrides with the image', () => {
  const redis = image({ entrypoint: ['docker-entrypoint.sh'], cmd: ['redis-server'] });

  it("runs the image's Entrypoint then its Cmd when nothing is overridden", () => {
    assert.deepEqual(serviceArgv(redis, {}), ['docker-entrypoint.sh', 'redis-server']);
  });

  it('replaces only the Cmd with `command`', () => {
    assert.deepEqual(serviceArgv(redis, { command: ['redis-server', '--port', '7000'] }), ['docker-entrypoint.sh', 'redis-server', '--port', '7000']);
  });

  it("drops the image's Cmd when `entrypoint` is given", () => {
    assert.deepEqual(serviceArgv(redis, { entrypoint: ['/bin/sh', '-c', 'sleep 1'] }), ['/bin/sh', '-c', 'sleep 1']);
    assert.deepEqual(serviceArgv(redis, { entrypoint: ['/bin/sh'], command: ['-c', 'true'] }), ['/bin/sh', '-c', 'true']);
  });

  it('treats entrypoint [""] as none, and its Cmd as dropped too', () => {
    assert.deepEqual(serviceArgv(redis, { entrypoint: [''], command: ['redis-server'] }), ['redis-server']);
    assert.throws(() => serviceArgv(redis, { entrypoint: [''] }), { code: 'SERVICE_NO_COMMAND', message: 'No command specified' });
  });

  it('treats empty override lists as absent', () => {
    assert.deepEqual(serviceArgv(redis, { entrypoint: [], command: [] }), ['docker-entrypoint.sh', 'redis-server']);
  });

  it('fails as Docker does when neither the image nor the job names a command', () => {
    assert.throws(() => serviceArgv(image({}), {}), { code: 'SERVICE_NO_COMMAND' });
  });
});

describe('serviceEnvironment: image Env, then the job, then the service', () => {
  it('keeps public job variables, drops secrets, and lets service variables win in place', () => {
    const env = serviceEnvironment({
      imageEnv: ['PATH=/opt/bin:/usr/bin', 'GREETING=from-image', 'ONLY_IMAGE=1'],
      jobVariables: [
        { key: 'GREETING', value: 'from-job', public: true },
        { key: 'CI_JOB_TOKEN', value: 'secret', public: false },
        { key: 'PROJECT_SECRET', value: 'x', public: false, masked: true },
        { key: 'CI_PROJECT_DIR', value: '/builds/acme/widget', public: true },
      ],
      serviceVariables: [{ key: 'GREETING', value: 'from-service in $CI_PROJECT_DIR' }],
    });
    assert.deepEqual(env, ['GREETING=from-service in /builds/acme/widget', 'CI_PROJECT_DIR=/builds/acme/widget', 'PATH=/opt/bin:/usr/bin', 'ONLY_IMAGE=1', 'HOME=/root']);
  });

  it('expands service variables against secrets only when they name them, and leaves raw ones as written', () => {
    const env = serviceEnvironment({
      imageEnv: [],
      jobVariables: [{ key: 'TOKEN', value: 's3cr3t', public: false }],
      serviceVariables: [
        { key: 'EXPLICIT', value: '$TOKEN' },
        { key: 'RAW', value: '$TOKEN', raw: true },
      ],
    });
    assert.deepEqual(env, ['EXPLICIT=s3cr3t', 'RAW=$TOKEN', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root']);
  });

  it('lets a later job variable of the same key win', () => {
    const env = serviceEnvironment({
      imageEnv: ['HOME=/home/app'],
      jobVariables: [
        { key: 'A', value: '1', public: true },
        { key: 'A', value: '2', public: true },
      ],
      serviceVariables: [],
    });
    assert.deepEqual(env, ['A=2', 'HOME=/home/app', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  it("sets HOME to the home of the service's user, unless something set it", () => {
    const home = (imageEnv: string[]) => serviceEnvironment({ imageEnv, jobVariables: [], serviceVariables: [], home: '/home/builder' }).at(-1);
    assert.equal(home([]), 'HOME=/home/builder');
    assert.equal(home(['HOME=/srv']), 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('healthCheckPorts', () => {
  const web = image({ exposedTcpPorts: [80, 443] });

  it("checks the image's exposed tcp ports", () => {
    assert.deepEqual(healthCheckPorts(['A=1'], web), [80, 443]);
  });

  it('checks only HEALTHCHECK_TCP_PORT (any case) when set', () => {
    assert.deepEqual(healthCheckPorts(['healthcheck_tcp_port=8080'], web), [8080]);
  });

  it("refuses a port that is not an integer with gitlab-runner's message", () => {
    assert.throws(() => healthCheckPorts(['HEALTHCHECK_TCP_PORT=http'], web), { message: 'invalid health check tcp port: http' });
  });
});

describe('readRuntimeConfig for services', () => {
  it('reads Cmd and the exposed tcp ports, sorted, ranges by their first port, udp left out', () => {
    const config = readRuntimeConfig(
      JSON.stringify({ config: { Cmd: ['redis-server'], ExposedPorts: { '6379/tcp': {}, '53/udp': {}, '8000-8010/tcp': {}, '25': {} } } }),
    );
    assert.deepEqual(config.cmd, ['redis-server']);
    assert.deepEqual(config.exposedTcpPorts, [25, 6379, 8000]);
  });

  it('reads the VOLUMEs, sorted, and none when the image declares none', () => {
    assert.deepEqual(readRuntimeConfig(JSON.stringify({ config: { Volumes: { '/var/lib/docker': {}, '/certs': {} } } })).volumes, ['/certs', '/var/lib/docker']);
    assert.equal(readRuntimeConfig(JSON.stringify({ config: { Volumes: null } })).volumes, undefined);
  });

  it('keeps at most 20 exposed ports', () => {
    const ports = Object.fromEntries(Array.from({ length: 25 }, (_, index) => [`${9000 + index}/tcp`, {}]));
    assert.equal(readRuntimeConfig(JSON.stringify({ config: { ExposedPorts: ports } })).exposedTcpPorts.length, 20);
  });
});
