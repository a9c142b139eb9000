#!/usr/bin/env node
// The `tart` command. An installed package runs the compiled dist/ (built by `npm pack`'s prepack);
// a git checkout without dist/, or with TART_FROM_SOURCE=1, runs src/ through tsx (a dev dependency).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src', 'cli', 'main.ts');
if (existsSync(compiled) && !(process.env.TART_FROM_SOURCE && existsSync(sources))) {
  await import(pathToFileURL(compiled).href);
} else if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(sources).href);
} else {
  process.stderr.write(
    `ERROR: ${compiled} is missing: this Tart package was not built (run "npm run build")\n`,
  );
  process.exitCode = 1;
}
