// One table-driven test over test/fixtures/ci/<feature>/: each folder holds a .gitlab-ci.yml and
// an expected.json with either the planned jobs (fields compared where given) or the error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CiConfigError } from '../../src/ci-yaml/errors.js';
import { planPipeline } from '../../src/ci-yaml/plan.js';
import { createProjectFiles } from '../../src/ci-yaml/project-files.js';
import type { PlannedJob } from '../../src/ci-yaml/types.js';
import { variableMap } from '../../src/ci-yaml/variables.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ci');

interface Expected {
  pipelineVariables?: Record<string, string>;
  changedFiles?: Record<string, string[]>;
  stages?: string[];
  files?: string[];
  ignored?: Array<{ name: string; reason: string }>;
  notes?: string[];
  jobs?: Array<Record<string, unknown> & { name: string }>;
  error?: { code: string; file?: string; line?: number; job?: string; message?: string };
}

// What a push to main looks like, so rules/only have something to match.
const PUSH_TO_MAIN = {
  CI_COMMIT_BRANCH: 'main',
  CI_COMMIT_REF_NAME: 'main',
  CI_DEFAULT_BRANCH: 'main',
  CI_PIPELINE_SOURCE: 'push',
};

describe('planning .gitlab-ci.yml fixtures', () => {
  for (const feature of readdirSync(FIXTURES).sort()) {
    const directory = join(FIXTURES, feature);
    const expected = JSON.parse(readFileSync(join(directory, 'expected.json'), 'utf8')) as Expected;
    // Folders with only a `run` entry are checked by test/exec/fixtures-run.test.ts.
    if (expected.jobs === undefined && expected.error === undefined && 'run' in expected) continue;
    it(`${feature}: ${expected.error ? `fails with ${expected.error.code}` : 'plans the expected jobs'}`, async () => {
      const variables = { ...PUSH_TO_MAIN, ...expected.pipelineVariables };
      const planning = planPipeline({
        files: createProjectFiles(directory),
        pipelineVariables: Object.entries(variables).map(([key, value]) => ({ key, value })),
        ...(expected.changedFiles
          ? { changedFiles: async (compareTo?: string) => expected.changedFiles?.[compareTo ?? ''] }
          : {}),
      });
      if (expected.error) return assertError(planning, expected.error);
      const plan = await planning;
      if (expected.stages) assert.deepEqual(plan.stages, expected.stages);
      if (expected.files) assert.deepEqual(plan.files, expected.files);
      assert.deepEqual(plan.ignored ?? [], expected.ignored ?? []);
      assert.deepEqual(plan.notes ?? [], expected.notes ?? []);
      assert.deepEqual(
        plan.jobs.map((job) => job.name),
        (expected.jobs ?? []).map((job) => job.name),
      );
      for (const [index, want] of (expected.jobs ?? []).entries())
        assertJob(plan.jobs[index] as PlannedJob, want);
    });
  }
});

async function assertError(planning: Promise<unknown>, want: NonNullable<Expected['error']>): Promise<void> {
  const error = await planning.then(
    () => assert.fail('planning succeeded but an error was expected'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof CiConfigError, `expected a CiConfigError, got ${String(error)}`);
  assert.equal(error.code, want.code, error.message);
  if (want.file !== undefined) assert.equal(error.location?.file, want.file, error.message);
  if (want.line !== undefined) assert.equal(error.location?.line, want.line, error.message);
  if (want.job !== undefined) assert.equal(error.job, want.job, error.message);
  if (want.message !== undefined)
    assert.ok(error.message.includes(want.message), `"${error.message}" should contain "${want.message}"`);
}

// Compares only the fields the fixture names; `variables` is a subset of the final name → value map,
// `variableList` the exact ordered list, `variableKeys` the exact set of names; null means absent.
function assertJob(job: PlannedJob, want: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(want)) {
    const label = `${job.name}.${field}`;
    if (field === 'variables') {
      const actual = variableMap(job.variables);
      for (const [key, expectedValue] of Object.entries(value as Record<string, string>))
        assert.equal(actual.get(key), expectedValue, `${label}.${key}`);
    } else if (field === 'variableList') {
      assert.deepEqual(job.variables, value, label);
    } else if (field === 'variableKeys') {
      assert.deepEqual([...variableMap(job.variables).keys()], value, label);
    } else if (value === null) {
      assert.equal((job as unknown as Record<string, unknown>)[field], undefined, label);
    } else {
      assert.deepEqual((job as unknown as Record<string, unknown>)[field], value, label);
    }
  }
}
