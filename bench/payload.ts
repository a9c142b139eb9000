// The cost of large payloads through the whole engine (shell executor, file:// repo): a job
// with one big variable, or with very many, against the same job without them. Each scenario
// runs in its own process so its peak RSS is its own.
//   npx tsx bench/payload.ts [--runs 3]
// There is no gitlab-runner on this host, so the ratio printed is against Tart's own baseline job.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobVariable } from '../src/model/payload.js';
import { createJobHarness } from '../test/job/support/job-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

interface Scenario {
  name: string;
  variables: 'none' | 'plain-10MiB' | 'file-3MiB' | 'plain-120KiB' | 'count-10000';
}

interface Figures {
  name: string;
  seconds: number[];
  state: string;
  peakRssMiB: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'baseline (no extra variables)', variables: 'none' },
  { name: 'one 10 MiB plain variable (refused)', variables: 'plain-10MiB' },
  { name: 'one 3 MiB file variable (the largest accepted)', variables: 'file-3MiB' },
  { name: 'one 120 KiB plain variable', variables: 'plain-120KiB' },
  { name: '10,000 variables', variables: 'count-10000' },
];

function variablesOf(kind: Scenario['variables']): JobVariable[] {
  switch (kind) {
    case 'none':
      return [];
    case 'plain-10MiB':
      return [{ key: 'HUGE', value: 'v$\n'.repeat((10 * MiB) / 3) }];
    case 'file-3MiB':
      return [{ key: 'BIG_FILE', value: 'f$\n'.repeat(MiB), file: true }];
    case 'plain-120KiB':
      return [{ key: 'BIG', value: 'p$\n'.repeat(40 * 1024) }];
    case 'count-10000':
      return Array.from({ length: 10_000 }, (_, index) => ({
        key: `VAR_${index}`,
        value: `value ${index} $x`,
      }));
  }
}

const args = process.argv.slice(2);
if (args[0] === '--run') {
  const scenario = JSON.parse(args[1] ?? '{}') as Scenario;
  console.log(JSON.stringify(await runScenario(scenario, Number(args[2] ?? 3))));
} else {
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
  console.log(`payload benchmark: node ${process.version}, ${runs} runs per scenario, shell executor`);
  let baseline = 0;
  for (const scenario of SCENARIOS) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(here, 'payload.ts'), '--run', JSON.stringify(scenario), String(runs)],
      { encoding: 'utf8', maxBuffer: 16 * MiB },
    );
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    const figures = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Figures;
    const sorted = [...figures.seconds].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    if (scenario.variables === 'none') baseline = median;
    console.log(
      `${figures.name}: ${figures.state}; min/median/max ${sorted[0]?.toFixed(2)}/${median.toFixed(2)}/${sorted.at(-1)?.toFixed(2)} s` +
        ` (${(median / baseline).toFixed(2)}x baseline); peak RSS ${figures.peakRssMiB.toFixed(0)} MiB`,
    );
  }
}

async function runScenario(scenario: Scenario, runs: number): Promise<Figures> {
  const harness = await createJobHarness();
  try {
    const seconds: number[] = [];
    let state = '';
    for (let run = 0; run < runs; run += 1) {
      const job = harness.job({ variables: variablesOf(scenario.variables), script: ['echo done'] });
      const started = process.hrtime.bigint();
      const result = await harness.run(job);
      seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
      state = result.outcome.state;
    }
    return { name: scenario.name, seconds, state, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await harness.cleanup();
  }
}
