// End to end in microVMs (QEMU under TCG here): the sample project's three-stage pipeline passes,
// and a failing job fails the pipeline with exit code 1. Needs the guest image (CI builds it).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultImageDir } from '../../src/config/paths.js';
import { readImageManifest } from '../../src/image/layout.js';
import { ExecSandbox, type ExecRun } from './exec-harness.js';

const REPO = join(import.meta.dirname, '..', '..');
const linesOf = (run: ExecRun, job: string) =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith(`[${job}] `))
    .map((line) => line.slice(job.length + 3));

describe('tart exec --executor qemu', { timeout: 900_000 }, () => {
  describe('the sample project in microVMs', () => {
    const sandbox = new ExecSandbox(join(REPO, 'examples', 'sample-project'));
    let run: ExecRun;
    let kernelRelease: string;
    before(async () => {
      kernelRelease = (await readImageManifest(defaultImageDir())).kernelRelease;
      run = await sandbox.exec({ executor: 'qemu', concurrency: 1 });
    });
    after(() => sandbox.remove());

    it('passes: build → test → package, each job in its own VM', () => {
      assert.equal(run.exitCode, 0, run.stdout + run.stderr);
      assert.deepEqual(
        run.result.jobs.map((job) => [job.name, job.status]),
        [
          ['build', 'success'],
          ['test', 'success'],
          ['package', 'success'],
        ],
      );
      const vms = ['build', 'test', 'package'].map((job) =>
        linesOf(run, job).find((line) => line.startsWith('Starting VM ')),
      );
      assert.ok(vms.every(Boolean), run.stdout);
      assert.equal(new Set(vms).size, 3, 'three different VMs');
      assert.ok(linesOf(run, 'build').some((line) => line.includes(`kernel ${kernelRelease}`)));
    });

    it('passes artifacts and the cache from build to the later jobs', () => {
      assert.ok(linesOf(run, 'test').includes('Hello, World!'), run.stdout);
      assert.ok(linesOf(run, 'test').includes('toolchain fetched by build'));
      assert.ok(linesOf(run, 'package').includes('dist/greeter.sh'));
    });
  });

  describe('a failing job in a microVM', () => {
    const sandbox = new ExecSandbox(join(import.meta.dirname, 'projects', 'failing'));
    let run: ExecRun;
    before(async () => {
      run = await sandbox.exec({ executor: 'qemu', jobs: ['unit'], concurrency: 1 });
    });
    after(() => sandbox.remove());

    it('fails the pipeline with exit code 1 and runs after_script with the failed status', () => {
      assert.equal(run.exitCode, 1, run.stdout + run.stderr);
      assert.ok(linesOf(run, 'unit').includes('after unit: failed'), run.stdout);
      assert.ok(linesOf(run, 'unit').some((line) => line.includes('ERROR: Job failed: exit code 1')));
    });
  });
});
