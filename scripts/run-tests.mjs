// Runs every test file under test/ (or the paths given) with node:test through tsx.
// Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function listTests(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => (name === 'node_modules' ? [] : listTests(join(path, name))));
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test'];
const files = roots.flatMap(listTests);
const concurrency = process.env.TART_TEST_CONCURRENCY ?? '2';
// A hung test fails its file after this long instead of holding CI to its limit. Node 20 applies
// it to each file as a whole too, so it must exceed the slowest file (the self-CI pipeline, four TCG VMs, 24 min at load 9).
const timeoutMs = process.env.TART_TEST_TIMEOUT_MS ?? '2700000';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeoutMs}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
