import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Field } from '../../src/config/fields.js';
import { configShape } from '../../src/config/schema.js';

// Dotted TOML paths of every key the schema accepts, e.g. `runners.vm.memory_mb`.
function keyPaths(shape: Record<string, Field<unknown>>, prefix = ''): string[] {
  return Object.values(shape).flatMap((field) => {
    const path = prefix === '' ? field.key : `${prefix}.${field.key}`;
    return field.children === undefined ? [path] : keyPaths(field.children, path);
  });
}

test('docs/configuration.md documents every key the schema accepts, in the right section', async () => {
  const docs = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const sections = docs.split(/^#+ /m);
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
