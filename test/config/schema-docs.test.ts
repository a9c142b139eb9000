import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Field } from '../../src/config/fields.js';
import { GLOBAL_IGNORED, RUNNER_IGNORED, type KeySpec } from '../../src/config/foreign-keys.js';
import { configShape } from '../../src/config/schema.js';

const TART_ONLY_TABLES = ['runners.vm', 'runners.firecracker', 'runners.network'];

// Dotted TOML paths of every key the schema decodes itself, e.g. `runners.vm.memory_mb`.
function keyPaths(shape: Record<string, Field<unknown>>, prefix = ''): string[] {
  return Object.values(shape).flatMap((field) => {
    if (field.keys !== undefined) return [];
    const path = prefix === '' ? field.key : `${prefix}.${field.key}`;
    return field.children === undefined ? [path] : keyPaths(field.children, path);
  });
}

// Dotted paths of the gitlab-runner keys Tart accepts without using.
function foreignPaths(spec: Record<string, KeySpec>, prefix: string): string[] {
  return Object.entries(spec).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return child === true ? [path] : foreignPaths(child, path);
  });
}

// How the "Every gitlab-runner key" table names a key: `[table] key`, `[[runners]] key`, or `key`.
function tableName(path: string): string {
  const parts = path.split('.');
  const key = parts.at(-1) ?? '';
  const table = parts.slice(0, -1).join('.');
  if (table === '') return key;
  return table === 'runners' ? `[[runners]] ${key}` : `[${table}] ${key}`;
}

const docs = readFile(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

test('docs/configuration.md documents every key the schema accepts, in the right section', async () => {
  const sections = (await docs).split(/^#+ /m);
  const paths = keyPaths(configShape as unknown as Record<string, Field<unknown>>);
  assert.ok(paths.length > 35);
  for (const path of paths) {
    const parts = path.split('.');
    const key = parts.at(-1) ?? '';
    const table = parts.slice(0, -1).join('.');
    const heading = table === '' ? 'Global keys' : table === 'runners' ? '`[[runners]]`' : `\`[${table}]\``;
    const section = sections.find((text) => text.startsWith(heading));
    assert.ok(section !== undefined, `a section for ${heading}`);
    assert.match(section, new RegExp(`^\\| \`${key}\` *\\|`, 'm'), `${path} is documented under ${heading}`);
  }
});

test('the "Every gitlab-runner key" table has one row per gitlab-runner key, honoured or not', async () => {
  const section = (await docs).split(/^## /m).find((text) => text.startsWith('Every gitlab-runner key'));
  assert.ok(section !== undefined);
  const rows = [...section.matchAll(/^\| `([^`]+)` +\|/gm)].map((match) => match[1]);
  const honoured = keyPaths(configShape as unknown as Record<string, Field<unknown>>).filter(
    (path) => !TART_ONLY_TABLES.some((table) => path.startsWith(`${table}.`)),
  );
  const ignored = [...foreignPaths(GLOBAL_IGNORED, ''), ...foreignPaths(RUNNER_IGNORED, 'runners')].map(
    (path) =>
      // A whole executor table is one row: `[runners.kubernetes]`.
      RUNNER_IGNORED[path.replace(/^runners\./, '')] === true &&
      /^runners\.(kubernetes|ssh|parallels|virtualbox|machine|custom|autoscaler|instance)$/.test(path)
        ? `[${path}]`
        : tableName(path),
  );
  const expected = [...honoured.map(tableName), ...ignored];
  assert.ok(expected.length > 150);
  assert.deepEqual([...rows].sort(), [...expected].sort());
});
