// Tart runs its own CI the way the seed ran its own: the project's .gitlab-ci.yml (install,
// type-check, lint, unit tests) passes under `tart exec --executor qemu`, each job in a microVM
// whose script stages run in a Node 20 image pulled from a loopback registry. Cold: an empty cache
// dir, so the install job runs `npm ci` in its VM and the check jobs get node_modules from the cache.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSelfCi } from '../../scripts/self-ci.js';

const jobLines = (output: string, job: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith(`[${job}] `))
    .map((line) => line.slice(job.length + 3));

describe("Tart's own CI under tart exec, in the Node image, in microVMs", { timeout: 2_700_000 }, () => {
  let cacheDir: string;
  let output = '';
  let exitCode: number;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'tart-self-ci-cache-'));
    exitCode = await runSelfCi(['--cache-dir', cacheDir], 'pipe', (text) => (output += text));
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  it('passes every job, each in its own VM, with its script in the Node 20 image', () => {
    assert.equal(exitCode, 0, output);
    for (const job of ['install', 'typecheck', 'lint', 'unit']) {
      const lines = jobLines(output, job);
      assert.ok(lines.some((line) => line.startsWith('Using docker image sha256:')), `${job} ran in the image\n${output}`);
      assert.ok(lines.some((line) => line.startsWith('Starting VM ')), `${job} had a VM\n${output}`);
      assert.ok(lines.includes('Job succeeded'), `${job} succeeded\n${output}`);
    }
    assert.ok(jobLines(output, 'install').includes(`v${process.versions.node}`), 'node --version ran in the image');
  });

  it('installs once: the check jobs restore node_modules from the cache the install job made', () => {
    assert.ok(jobLines(output, 'install').some((line) => line.startsWith('Creating cache ')), output);
    for (const job of ['typecheck', 'lint', 'unit']) {
      assert.ok(jobLines(output, job).some((line) => line.startsWith('Successfully extracted cache')), `${job}\n${output}`);
    }
  });

  it('runs the unit tests in the VM and reports them', () => {
    const unit = jobLines(output, 'unit');
    assert.ok(unit.some((line) => /^ℹ pass [1-9]\d*$/.test(line)), output);
    assert.ok(unit.includes('ℹ fail 0'), output);
  });
});
