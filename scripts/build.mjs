// `npm run build` (and `npm pack`'s prepack): compiles src/ into a clean dist/ and records what was
// built, the package version and the git revision (8 hex digits, as gitlab-runner shows it), in
// dist/build-info.json. Outside a git checkout the revision is $TART_REVISION, else "unknown".
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

function gitRevision() {
  try {
    return execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const revision = process.env.TART_REVISION || gitRevision() || 'unknown';
writeFileSync(join(dist, 'build-info.json'), `${JSON.stringify({ version, revision }, null, 2)}\n`);
console.error(`tart ${version} (${revision}) built into dist/`);
