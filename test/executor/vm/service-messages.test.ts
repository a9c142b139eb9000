import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  healthCheckTimeoutError,
  noExposedPortsError,
  serviceLogLine,
  serviceWarningBlock,
  startingServiceLine,
  waitingForServicesLine,
} from '../../../src/executor/vm/service-messages.js';

describe("gitlab-runner's service trace text", () => {
  it('says which service starts, with its tag (latest by default) or digest', () => {
    assert.equal(startingServiceLine('redis', 'latest'), 'Starting service redis:latest...');
    assert.equal(startingServiceLine('a.tld/b', '@sha256:abc'), 'Starting service a.tld/b@sha256:abc...');
  });

  it('announces the wait once, with its timeout', () => {
    assert.equal(waitingForServicesLine(30), 'Waiting for services to be up and running (timeout 30 seconds)...');
  });

  it('writes the warning block of services.go, health check logs only when there are some', () => {
    const block = serviceWarningBlock({
      containerName: 'job7-redis-0',
      error: healthCheckTimeoutError('job7-redis-0'),
      healthCheckLogs: 'waiting for TCP connection to 127.0.0.1:6379...\n',
      serviceLogs: 'boom\n',
    });
    assert.equal(
      block,
      '\n\x1b[0;33m*** WARNING:\x1b[0;m Service job7-redis-0 probably didn\'t start properly.\n\n' +
        'Health check error:\nservice "job7-redis-0-wait-for-service" timeout\n\n' +
        'Health check container logs:\nwaiting for TCP connection to 127.0.0.1:6379...\n\n\n' +
        'Service container logs:\nboom\n\n\n\x1b[0;33m*********\x1b[0;m\n\n',
    );
    const withoutCheckLogs = serviceWarningBlock({ containerName: 'x', error: noExposedPortsError('x'), serviceLogs: '' });
    assert.doesNotMatch(withoutCheckLogs, /Health check container logs/);
    assert.match(withoutCheckLogs, /Health check error:\nservice "x" has no exposed ports\n\nService container logs:\n\n/);
  });

  it('prefixes a followed service line with its aliases and a docker-style timestamp', () => {
    assert.equal(
      serviceLogLine(['web', 'www'], '2026-01-02T03:04:05.678901000Z', 'hello'),
      '\x1b[0;37m[service:web-www] 2026-01-02T03:04:05.678901000Z hello\x1b[0;m\n',
    );
  });
});
