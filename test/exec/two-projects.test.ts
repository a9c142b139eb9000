// Two `tart exec --executor shell` runs at the same time, with the default builds dir (no
// --builds-dir): each project, and each concurrent run of one project, gets its own checkout.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tart, type TartRun } from './exec-cli.js';
import { createRepository } from './git-helpers.js';

// Leaves an untracked marker in the checkout, waits for the other run to do the same, then lists
// the checkout: a shared dir would show the other's marker (or lose its own to the other's git clean).
const CI = (name: string) => `
job:
  script:
    - echo "${name}" > marker-${name}.txt
    - sleep 2
    - echo "dir=$CI_PROJECT_DIR"
    - ls
`;

const linesOf = (run: TartRun) =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith('[job] '))
    .map((line) => line.slice(6));

describe('concurrent tart exec runs without --builds-dir', { timeout: 120_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'tart-exec-home-'));
  const alpha = createRepository({ '.gitlab-ci.yml': CI('alpha'), 'alpha.txt': 'a\n' });
  const beta = createRepository({ '.gitlab-ci.yml': CI('beta'), 'beta.txt': 'b\n' });
  after(() => [home, alpha, beta].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  // A non-root user, so the default state dir is under this temporary home.
  const run = (cwd: string) => tart(['exec', '--executor', 'shell', '--cwd', cwd], { uid: 1000, home });

  it('two projects each see only their own files', async () => {
    const [a, b] = await Promise.all([run(alpha), run(beta)]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const dirA = linesOf(a).find((line) => line.startsWith('dir='));
    const dirB = linesOf(b).find((line) => line.startsWith('dir='));
    assert.ok(dirA?.startsWith(`dir=${join(home, '.cache', 'tart', 'exec', 'builds')}/`), dirA);
    assert.notEqual(dirA, dirB);
    assert.ok(linesOf(a).includes('marker-alpha.txt') && linesOf(a).includes('alpha.txt'), a.stdout);
    assert.ok(!linesOf(a).some((line) => line.includes('beta')), a.stdout);
    assert.ok(linesOf(b).includes('marker-beta.txt') && linesOf(b).includes('beta.txt'), b.stdout);
    assert.ok(!linesOf(b).some((line) => line.includes('alpha')), b.stdout);
  });

  it('two runs of one project use different checkouts', async () => {
    const [first, second] = await Promise.all([run(alpha), run(alpha)]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const dirs = [first, second].map((each) => linesOf(each).find((line) => line.startsWith('dir=')));
    assert.notEqual(dirs[0], dirs[1]);
    for (const each of [first, second]) assert.ok(linesOf(each).includes('marker-alpha.txt'), each.stdout);
  });
});
