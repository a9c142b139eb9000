// tart exec --executor shell with a job that names an image and services: each is ignored with one
// warning line (as gitlab-ci-local's shell executor does), and the job runs on the host.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExecSandbox } from './exec-harness.js';

describe('tart exec --executor shell and image:, services:', () => {
  const sandbox = new ExecSandbox(join(import.meta.dirname, 'projects', 'image-on-shell'));
  after(() => sandbox.remove());

  it('warns once that the image and once that the services are ignored, and runs the job', async () => {
    const run = await sandbox.exec();
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    const warnings = run.stdout.split('\n').filter((line) => line.includes('WARNING: image'));
    assert.deepEqual(warnings, ['[greet] WARNING: image "node:20" is ignored: the shell executor runs jobs on this host']);
    const services = run.stdout.split('\n').filter((line) => line.includes('WARNING: services'));
    assert.deepEqual(services, ['[greet] WARNING: services "postgres:16", "redis:7" are ignored: the shell executor runs no services']);
    assert.match(run.stdout, /\[greet\] ran on the host/);
  });
});
