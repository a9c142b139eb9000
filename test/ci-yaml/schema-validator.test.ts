// The CI schema validator is generated ahead of time; it must match the schema it was made from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateAgainstSchema } from '../../src/ci-yaml/schema.js';
import { loadCiFile } from '../../src/ci-yaml/load.js';

const REPO = join(import.meta.dirname, '..', '..');

describe('the generated CI schema validator', () => {
  it('is up to date with src/ci-yaml/gitlab-ci-schema.json', () => {
    const check = spawnSync(
      process.execPath,
      [join(REPO, 'scripts', 'build-ci-schema-validator.mjs'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(check.stdout.trim(), 'up to date', 'run node scripts/build-ci-schema-validator.mjs');
    assert.equal(check.status, 0);
  });

  it('is made from the same schema as ../shared/gitlab-ci/ci.json', (context) => {
    const shared = join(REPO, '..', 'shared', 'gitlab-ci', 'ci.json');
    if (!existsSync(shared)) return context.skip('no ../shared checkout beside the repository');
    assert.equal(
      readFileSync(join(REPO, 'src', 'ci-yaml', 'gitlab-ci-schema.json'), 'utf8'),
      readFileSync(shared, 'utf8'),
    );
  });

  it('stops on an unknown key and only warns about what GitLab accepts', () => {
    assert.throws(
      () => validateAgainstSchema(loadCiFile('.gitlab-ci.yml', 'job:\n  script: [x]\n  scirpt: [y]\n')),
      /job has unknown key "scirpt"/,
    );
    const warnings = validateAgainstSchema(loadCiFile('.gitlab-ci.yml', 'job:\n  script: [x]\n  tags: []\n'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^\.gitlab-ci\.yml:3: job "job": job\.tags /);
  });
});
