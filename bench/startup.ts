// Start-up: wall time of `tart --version` (compiled dist/ and from sources through tsx) and of a
// command's `--help` (which loads that command's module only), next to `node -e 0`. Runs are
// interleaved so machine noise hits every contestant alike. Build dist/ first (`npm run build`);
// without it the compiled rows are skipped and said so.
//   npx tsx bench/startup.ts [--runs 15]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSpread, option, spread } from './support/figures.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const runs = Number(option('--runs', '15'));
const bin = join(root, 'bin', 'tart.js');
const compiled = existsSync(join(root, 'dist', 'cli', 'main.js'));

const contestants: Record<string, { args: string[]; env?: NodeJS.ProcessEnv }> = {
  'node -e 0': { args: ['-e', '0'] },
  ...(compiled
    ? {
        'tart --version (dist)': { args: [bin, '--version'] },
        'tart list --help (dist)': { args: [bin, 'list', '--help'] },
      }
    : {}),
  'tart --version (sources)': { args: [bin, '--version'], env: { TART_FROM_SOURCE: '1' } },
};

const samples: Record<string, number[]> = {};
for (let run = 0; run < runs; run++) {
  for (const [name, { args, env }] of Object.entries(contestants)) {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    (samples[name] ??= []).push(ms);
  }
}

const floor = spread(samples['node -e 0'] ?? []).median;
console.log(
  `start-up benchmark: node ${process.version}, ${runs} interleaved runs (ms min/median/max, ratio of medians to node -e 0)`,
);
if (!compiled) console.log('  dist/ is not built: run `npm run build` for the compiled rows');
for (const [name, values] of Object.entries(samples))
  console.log(
    `  ${name.padEnd(26)} ${formatSpread(values, 0)}  ${(spread(values).median / floor).toFixed(2)}x`,
  );
